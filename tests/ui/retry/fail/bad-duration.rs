#[resilient::retry(base = "100")]
async fn no_unit() -> Result<(), std::io::Error> {
    Ok(())
}

#[resilient::retry(base = "10 sec")]
async fn bad_unit() -> Result<(), std::io::Error> {
    Ok(())
}

#[resilient::retry(base = 100)]
async fn not_a_string() -> Result<(), std::io::Error> {
    Ok(())
}

#[resilient::retry(max_delay = "0s")]
async fn zero_cap() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
