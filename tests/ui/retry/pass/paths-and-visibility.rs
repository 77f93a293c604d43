mod inner {
    /// Documented, `#[must_use]` and `pub(crate)`: all kept.
    #[must_use = "the result says whether it worked"]
    #[::resilient::retry(max = 2)]
    pub(crate) async fn call(x: u32) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
        Ok(x)
    }
}

use resilient::retry as again;

#[again(max = 2)]
async fn renamed() -> std::io::Result<()> {
    Ok(())
}

fn spawnable() {
    fn is_send<T: Send>(_: T) {}
    is_send(inner::call(1));
    is_send(renamed());
}

fn main() {
    spawnable();
}
