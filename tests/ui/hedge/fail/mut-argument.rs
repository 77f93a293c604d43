struct Conn;

impl Conn {
    #[resilient::hedge(after = "50ms")]
    async fn get(&mut self) -> Result<u32, std::io::Error> {
        Ok(1)
    }
}

#[resilient::hedge(after = "50ms")]
async fn fill(buf: &mut Vec<u8>) -> Result<usize, std::io::Error> {
    buf.push(1);
    Ok(buf.len())
}

fn main() {}
