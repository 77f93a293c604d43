use resilient::timeout;

pub struct Client;

impl Client {
    fn reset(&mut self) {}

    // A call instead of a fn's path.
    #[timeout("1s", on_cancel = Self::reset())]
    pub async fn closure(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    // Both: one says there is nothing to repair, the other repairs.
    #[timeout("1s", cancel_safe = true, on_cancel = Self::reset)]
    pub async fn both(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    // Not a boolean.
    #[timeout("1s", cancel_safe = "yes")]
    pub async fn stated(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    // An owned receiver: nothing to hand the hook after the body is dropped.
    #[timeout("1s", on_cancel = Self::reset)]
    pub async fn owned(self) -> std::io::Result<()> {
        Ok(())
    }
}

fn reset_both(_: &mut Vec<u8>) {}

// No receiver and no `&mut` argument.
#[timeout("1s", on_cancel = reset_both)]
pub async fn nothing(line: &str) -> std::io::Result<usize> {
    Ok(line.len())
}

// Two `&mut` arguments: which one?
#[timeout("1s", on_cancel = reset_both)]
pub async fn two(a: &mut Vec<u8>, b: &mut Vec<u8>) -> std::io::Result<()> {
    a.append(b);
    Ok(())
}

fn main() {}
