use resilient::timeout;

pub struct Client {
    last: String,
}

impl Client {
    fn reset(&mut self) {
        self.last.clear();
    }

    // The `Ok` value borrows `self`, which the hook needs back.
    #[timeout("1s", on_cancel = Self::reset)]
    pub async fn last(&mut self) -> std::io::Result<&str> {
        Ok(&self.last)
    }
}

fn reset_buf(buf: &mut Vec<u8>) {
    buf.clear();
}

#[timeout("1s", on_cancel = reset_buf)]
pub async fn fill(buf: &mut Vec<u8>) -> std::io::Result<&[u8]> {
    Ok(buf)
}

fn main() {}
