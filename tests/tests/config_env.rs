//! `RESILIENT_CONFIG`: the file it names is loaded when the first policy is built.

use resilient::retry;
use resilient_tests::AppError;

#[retry(max = 3, base = "1ms", name = "cfg.env")]
async fn call() -> Result<(), AppError> {
    Ok(())
}

#[tokio::test]
async fn the_file_is_loaded_at_the_first_policy_use() {
    let path = std::env::temp_dir().join(format!("resilient-env-{}.toml", std::process::id()));
    std::fs::write(&path, "[\"cfg.env\".retry]\nmax = 6\n").unwrap();
    // SAFETY: the only test of this binary, before any thread of ours reads the environment.
    unsafe { std::env::set_var(resilient::config::ENV, &path) };
    call().await.unwrap();
    let snap = serde_json::to_value(resilient::registry::snapshot()).unwrap();
    let policy = &snap["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "cfg.env")
        .unwrap()
        .clone();
    assert_eq!(policy["state"]["max_attempts"], 6);
    let max =
        policy["settings"].as_array().unwrap().iter().find(|s| s["key"] == "max").unwrap().clone();
    assert_eq!((max["value"].as_str(), max["source"].as_str()), (Some("6"), Some("env")));
    std::fs::remove_file(&path).unwrap();
}
