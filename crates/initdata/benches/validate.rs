//! `cargo bench -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use initdata::{Environment, Validator, sign};

const TOKEN: &str = "7342037359:AAHI25ES9xCOMPokpYoz-p8XVrZUdygo2J4";

// Real initData signed by Telegram (production Ed25519 key, bot 7342037359) with a hash from
// TOKEN, from Telegram-Mini-Apps/init-data-golang, README.md.
const PUBLISHED: &str = "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&auth_date=1733509682&signature=TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-X7oNNLNBM72APCpi_RKiUlBvcqo5L-LAxIc3dnTzcZX_PDg&hash=a433d8f9847bd6addcc563bff7cc82c89e97ea0d90c11fe5729cae6796a36d73";
const PUBLISHED_AUTH_DATE: u64 = 1_733_509_682;

fn bench(c: &mut Criterion) {
    let now = UNIX_EPOCH + Duration::from_secs(PUBLISHED_AUTH_DATE + 60);

    // A typical launch from a menu button: query_id, user with photo_url, auth_date, signature.
    let auth_date = PUBLISHED_AUTH_DATE.to_string();
    let user = r#"{"id":279058397,"first_name":"Vladislav","last_name":"Kibenko","username":"vdkfrost","language_code":"ru","is_premium":true,"allows_write_to_pm":true,"photo_url":"https:\/\/t.me\/i\/userpic\/320\/4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg"}"#;
    let hmac_raw = sign(
        TOKEN,
        &[
            ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
            ("user", user),
            ("auth_date", &auth_date),
            ("chat_instance", "8134722200314281151"),
            ("chat_type", "private"),
            (
                "signature",
                "TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-X7oNNLNBM72APCpi_RKiUlBvcqo5L-LAxIc3dnTzcZX_PDg",
            ),
        ],
    );

    let hmac = Validator::hmac(TOKEN);
    let ed25519 = Validator::ed25519(7_342_037_359, Environment::Production);
    let both = Validator::both(TOKEN, Environment::Production).unwrap();
    assert!(hmac.validate(&hmac_raw, now).is_ok());
    assert!(ed25519.validate(PUBLISHED, now).is_ok());
    assert!(both.validate(PUBLISHED, now).is_ok());

    c.bench_function("hmac", |b| {
        b.iter(|| hmac.validate(black_box(&hmac_raw), now))
    });
    c.bench_function("hmac_published", |b| {
        b.iter(|| hmac.validate(black_box(PUBLISHED), now))
    });
    c.bench_function("ed25519", |b| {
        b.iter(|| ed25519.validate(black_box(PUBLISHED), now))
    });
    c.bench_function("both", |b| {
        b.iter(|| both.validate(black_box(PUBLISHED), now))
    });
    // Reference: the cryptographic floor of the HMAC check, the two HMAC-SHA256 computations
    // (secret key from the token, then the data-check-string) with nothing parsed.
    c.bench_function("reference_two_hmac_sha256", |b| {
        use hmac::{Hmac, Mac};
        type HmacSha256 = Hmac<sha2::Sha256>;
        let dcs = format!("auth_date={auth_date}\nchat_instance=8134722200314281151\nchat_type=private\nquery_id=AAHdF6IQAAAAAN0XohDhrOrc\nuser={user}");
        b.iter(|| {
            let mut key = HmacSha256::new_from_slice(b"WebAppData").expect("any key length");
            key.update(black_box(TOKEN.as_bytes()));
            let secret = key.finalize().into_bytes();
            let mut mac = HmacSha256::new_from_slice(&secret).expect("any key length");
            mac.update(black_box(dcs.as_bytes()));
            mac.finalize().into_bytes()
        })
    });
    c.bench_function("hmac_bad_signature", |b| {
        let bad = hmac_raw.replace("Kibenko", "Kibenkp");
        b.iter(|| hmac.validate(black_box(&bad), now))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
