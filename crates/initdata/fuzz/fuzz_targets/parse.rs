#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use initdata::{Environment, Validator};
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = "7342037359:AAHI25ES9xCOMPokpYoz-p8XVrZUdygo2J4";

fn validators() -> &'static [Validator; 3] {
    static V: OnceLock<[Validator; 3]> = OnceLock::new();
    V.get_or_init(|| {
        [
            Validator::hmac(TOKEN),
            Validator::ed25519(7_342_037_359, Environment::Production),
            Validator::both(TOKEN, Environment::Test).expect("token has a numeric bot id"),
        ]
    })
}

fuzz_target!(|raw: &str| {
    let now = UNIX_EPOCH + Duration::from_secs(1_733_509_682);
    for v in validators() {
        // Must never panic; any Ok must survive a second identical call unchanged.
        let first = v.validate(raw, now);
        if first.is_ok() {
            assert_eq!(first, v.validate(raw, now));
        }
    }
});
