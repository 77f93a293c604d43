use resilient::timeout;

pub struct Client {
    broken: bool,
}

impl Client {
    fn is_broken(&self) -> bool {
        self.broken
    }

    async fn reconnect(&mut self) {
        self.broken = false;
    }

    // Returns a value.
    #[timeout("1s", on_cancel = Self::is_broken)]
    pub async fn wrong_signature(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    // An async fn: its future would be dropped unpolled, and the hook would do nothing.
    #[timeout("1s", on_cancel = Self::reconnect)]
    pub async fn asynchronous(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    // Takes something else than the receiver.
    #[timeout("1s", on_cancel = clear)]
    pub async fn wrong_argument(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn clear(buf: &mut Vec<u8>) {
    buf.clear();
}

fn main() {}
