pub struct Only;

#[resilient::retry]
impl Only {
    pub fn sync(&self) -> Result<u32, std::io::Error> {
        Ok(1)
    }
}

pub struct AllSkipped;

#[resilient::retry]
#[resilient::circuit_breaker]
impl AllSkipped {
    #[resilient::skip]
    pub async fn get(&self) -> Result<u32, std::io::Error> {
        Ok(1)
    }
}

pub struct Empty;

#[resilient::timeout("1s")]
impl Empty {}

fn main() {}
