//! The kinds' declared defaults are the runtime's.

use resilient_spec::{CIRCUIT_BREAKER, IDEMPOTENT, RETRY, TIMEOUT};

use resilient_spec::Setting;

use super::Tuning;
use crate::backoff::Schedule;
use crate::breaker::BreakerSettings;
use crate::idempotency::DEFAULT_TTL;
use crate::retry::BudgetSettings;
use crate::timeout::{AdaptiveSettings, TimeoutRule};

fn differs(declared: &Tuning, runtime: &Tuning) -> Vec<&'static str> {
    declared
        .kind
        .keys
        .iter()
        .zip(declared.values.iter().zip(&runtime.values))
        .filter(|(key, (d, r))| d != r && key.name != "rule")
        .map(|(key, _)| key.name)
        .collect()
}

#[test]
fn declared_defaults_are_the_runtime_defaults() {
    let breaker = BreakerSettings::default().tuning();
    assert_eq!(differs(&Tuning::new(&CIRCUIT_BREAKER), &breaker), [] as [&str; 0]);

    let schedule = Schedule::exponential(std::time::Duration::from_millis(100));
    let retry = crate::retry::tuned_defaults(3, &schedule, Some(BudgetSettings::default().ratio));
    assert_eq!(differs(&Tuning::new(&RETRY), &retry), [] as [&str; 0]);

    let timeout = crate::timeout::tuned_defaults(
        TimeoutRule::Fixed(std::time::Duration::from_secs(1)),
        &AdaptiveSettings::default(),
    );
    assert_eq!(
        differs(&Tuning::new(&TIMEOUT), &timeout),
        [] as [&str; 0],
        "update resilient-spec's TIMEOUT"
    );

    let idempotent = crate::idempotency::tuned_defaults(DEFAULT_TTL, None);
    assert_eq!(differs(&Tuning::new(&IDEMPOTENT), &idempotent), [] as [&str; 0]);
}

#[test]
fn repeated_applies_do_not_pile_up_tables() {
    for max in [2, 3, 4] {
        super::apply(&format!("[\"config.tests.pile\".retry]\nmax = {max}")).unwrap();
    }
    let st = super::state();
    let api = st.layers.iter().find(|(o, _)| *o == super::Origin::Api).unwrap();
    let ours: Vec<_> = api.1.iter().filter(|e| e.pattern == "config.tests.pile").collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].keys, [(0, resilient_spec::Setting::Count(4))]);
}

#[test]
fn every_default_reads_back_through_a_configuration_file() {
    for kind in resilient_spec::KINDS {
        let mut text = format!("[\"config.tests.defaults\".{}]\n", kind.name);
        for key in kind.keys {
            let shown = key.default.to_string();
            let literal = match key.default {
                Setting::Count(_) | Setting::Number(_) | Setting::Bool(_) => shown,
                Setting::Jitter(resilient_spec::Jitter::Proportional(_)) => shown,
                _ => format!("\"{shown}\""),
            };
            text.push_str(&format!("{} = {literal}\n", key.name));
        }
        let entries = super::parse::parse(&text).unwrap_or_else(|p| panic!("{text}\n{p:?}"));
        let mut keys = entries[0].keys.clone();
        keys.sort_by_key(|(index, _)| *index);
        let parsed: Vec<Setting> = keys.iter().map(|(_, v)| *v).collect();
        assert_eq!(parsed, kind.defaults(), "{text}");
    }
}
