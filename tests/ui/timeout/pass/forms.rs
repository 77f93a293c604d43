use resilient::timeout;

#[timeout("250ms")]
async fn fixed() -> std::io::Result<()> {
    Ok(())
}

#[timeout("p99.9*3", initial = "1.5s", min = "5ms", max = "5s", warmup = 100, window = "60s", name = "forms")]
async fn adaptive() -> anyhow::Result<()> {
    Ok(())
}

#[timeout("p50*1.5")]
async fn boxed() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Ok(())
}

fn main() {
    fn is_send<T: Send>(_: T) {}
    is_send(fixed());
    is_send(adaptive());
    is_send(boxed());
}
