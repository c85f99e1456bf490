//! The `vitrina` binary as an operator meets it: start-up errors, config check, migrate,
//! outbox commands and graceful shutdown on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_vitrina");

fn vitrina(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("VITRINA_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("run vitrina")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_clean_failure(o: &Output, needle: &str) {
    let err = stderr(o);
    assert!(!o.status.success(), "expected failure, got success: {err}");
    assert!(
        err.contains(needle),
        "stderr should mention {needle:?}: {err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "no panic: {err}"
    );
    let error_lines = err.lines().filter(|l| l.starts_with("error:")).count();
    assert_eq!(error_lines, 1, "one clear error line: {err}");
}

#[test]
fn version_prints() {
    let dir = tempfile::tempdir().unwrap();
    let o = vitrina(dir.path(), &["version"], &[]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("vitrina "));
}

#[test]
fn mistyped_config_key_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vitrina.toml"),
        "[server]\nlisten = \"127.0.0.1:8080\"\npublic_ur = \"https://x\"\n",
    )
    .unwrap();
    let o = vitrina(
        dir.path(),
        &["--config", "vitrina.toml", "config", "check"],
        &[],
    );
    assert_clean_failure(&o, "public_ur");
    let o = vitrina(dir.path(), &["--config", "vitrina.toml", "serve"], &[]);
    assert_clean_failure(&o, "public_ur");
}

#[test]
fn missing_config_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let o = vitrina(dir.path(), &["--config", "nope.toml", "serve"], &[]);
    assert_clean_failure(&o, "nope.toml");
}

#[test]
fn config_check_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let o = vitrina(
        dir.path(),
        &["config", "check"],
        &[
            ("VITRINA_TELEGRAM__BOT_TOKEN", "123456:TOPSECRETTOKEN"),
            (
                "VITRINA_BITRIX__WEBHOOK_URL",
                "https://portal.example.ru/rest/1/HOOKSECRET/",
            ),
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        out.contains("[redacted]") && out.contains("[telegram]"),
        "{out}"
    );
    assert!(
        !out.contains("TOPSECRETTOKEN") && !out.contains("HOOKSECRET"),
        "{out}"
    );
}

#[test]
fn unreachable_database_stops_startup_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let o = vitrina(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0"],
        &[
            (
                "VITRINA_DATABASE__URL",
                "postgres://vitrina:pw@127.0.0.1:1/shop",
            ),
            ("VITRINA_DATABASE__CONNECT_TIMEOUT", "2s"),
        ],
    );
    assert_clean_failure(&o, "cannot connect");
    assert!(
        !stderr(&o).contains(":pw@"),
        "password leaked: {}",
        stderr(&o)
    );
}

#[test]
fn port_in_use_stops_startup_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let o = vitrina(
        dir.path(),
        &["serve", "--listen", &addr],
        &[("VITRINA_DATABASE__URL", "sqlite://shop.db")],
    );
    assert_clean_failure(&o, "cannot listen");
}

#[test]
fn migrate_then_outbox_commands() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("VITRINA_DATABASE__URL", "sqlite://data/shop.db")];
    let o = vitrina(dir.path(), &["migrate"], &env);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("applied"));

    // A job that failed for good, written the way the app writes it.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let id = runtime.block_on(async {
        use vitrina::config::*;
        use vitrina::outbox::*;
        let url = format!("sqlite://{}", dir.path().join("data/shop.db").display());
        let store = vitrina::store::Store::connect(&DatabaseConfig {
            url: Secret::new(url),
            ..Default::default()
        })
        .await
        .unwrap();
        let outbox = Outbox::new(store.clone(), OutboxConfig::default());
        outbox
            .enqueue_now(NewJob::new("bot.send", serde_json::json!({"chat": 1})))
            .await
            .unwrap();
        let handlers = Handlers::new().on("bot.send", |_| async {
            Err(JobError::Permanent("403 Forbidden".into()))
        });
        Worker::new(outbox.clone(), handlers, "w")
            .run_once()
            .await
            .unwrap();
        let id = outbox.list(None, 1).await.unwrap()[0].id;
        store.close().await;
        id
    });

    let o = vitrina(dir.path(), &["outbox", "list", "--state", "dead"], &env);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        out.contains("bot.send") && out.contains("dead") && out.contains("403 Forbidden"),
        "{out}"
    );

    let o = vitrina(dir.path(), &["outbox", "list", "--json"], &env);
    let row: serde_json::Value =
        serde_json::from_slice(o.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(row["id"], id);

    let o = vitrina(dir.path(), &["outbox", "retry", &id.to_string()], &env);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = vitrina(dir.path(), &["outbox", "list", "--state", "pending"], &env);
    assert!(String::from_utf8_lossy(&o.stdout).contains("bot.send"));

    let o = vitrina(dir.path(), &["outbox", "drop", &id.to_string()], &env);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = vitrina(dir.path(), &["outbox", "drop", &id.to_string()], &env);
    assert_clean_failure(&o, "does not exist");
    let o = vitrina(dir.path(), &["outbox", "list", "--state", "sleeping"], &env);
    assert_clean_failure(&o, "--state");
}

#[test]
fn sigterm_lets_a_slow_request_finish() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir", "demo"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines.next().expect("demo printed its URL").unwrap();
        if let Some(rest) = line.split("open http://").nth(1) {
            break rest.split('/').next().unwrap().to_string();
        }
    };
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .write_all(b"GET /dev/slow?ms=1500 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let sent = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());

    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("slept 1500 ms"), "{response}");
    let status = child.wait().unwrap();
    assert!(status.success(), "exit after draining: {status:?}");
    assert!(
        sent.elapsed() >= Duration::from_millis(1000),
        "the request was not cut short"
    );
    // After shutdown nothing listens.
    assert!(TcpStream::connect(&addr).is_err());
}

#[test]
fn import_command_reads_a_zip_and_reports() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let fixtures = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/commerceml/tests/fixtures/v2.04"
    );
    let zip_path = dir.path().join("package.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        for name in ["import.xml", "offers.xml"] {
            zip.start_file(name, options).unwrap();
            zip.write_all(&std::fs::read(format!("{fixtures}/{name}")).unwrap())
                .unwrap();
        }
        zip.finish().unwrap();
    }
    let env = [
        ("VITRINA_DATABASE__URL", "sqlite://shop.db"),
        ("VITRINA_CATALOG__MEDIA_DIR", "media"),
    ];
    let o = vitrina(dir.path(), &["import", "package.zip"], &env);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.contains("catalog version 1 published (full)"), "{out}");
    assert!(
        out.contains("products 2") && out.contains("offers 1"),
        "{out}"
    );
    assert!(
        out.contains("offers.xml:") && out.contains("unknown product"),
        "warnings name file:line: {out}"
    );

    // A broken file: one error line naming file and line; the catalog stays at version 1.
    std::fs::write(
        dir.path().join("offers.xml"),
        "<?xml version=\"1.0\"?>\n<КоммерческаяИнформация>\n<ПакетПредложений>\n",
    )
    .unwrap();
    let o = vitrina(dir.path(), &["import", "offers.xml"], &env);
    assert_clean_failure(&o, "offers.xml:");
    let o = vitrina(dir.path(), &["import", "--json", "package.zip"], &env);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["version"], 2, "the failed import published nothing");
}

#[test]
fn orders_commands_show_and_move_orders() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    let env = [("VITRINA_DATABASE__URL", url.as_str())];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let id = runtime.block_on(async {
        use vitrina::config::*;
        let config = Config { database: DatabaseConfig { url: Secret::new(url.clone()), ..Default::default() }, ..Default::default() };
        let store = vitrina::store::Store::connect(&config.database).await.unwrap();
        store.migrate().await.unwrap();
        let pkg = dir.path().join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("import.xml"), "<?xml version=\"1.0\" encoding=\"UTF-8\"?><КоммерческаяИнформация ВерсияСхемы=\"2.05\"><Каталог><Ид>c</Ид><Товары><Товар><Ид>p</Ид><Наименование>Плед</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>").unwrap();
        std::fs::write(pkg.join("offers.xml"), "<?xml version=\"1.0\" encoding=\"UTF-8\"?><КоммерческаяИнформация ВерсияСхемы=\"2.05\"><ПакетПредложений><Ид>c#</Ид><ТипыЦен><ТипЦены><Ид>r</Ид><Наименование>Розничная</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен><Предложения><Предложение><Ид>p</Ид><Цены><Цена><ИдТипаЦены>r</ИдТипаЦены><ЦенаЗаЕдиницу>1990</ЦенаЗаЕдиницу></Цена></Цены><Количество>3</Количество></Предложение></Предложения></ПакетПредложений></КоммерческаяИнформация>").unwrap();
        let catalog = CatalogConfig { media_dir: dir.path().join("media"), ..Default::default() };
        vitrina::catalog::import::Importer::new(&store, &catalog).import_paths(&[pkg], "test").await.unwrap();
        sqlx::query("INSERT INTO customers (telegram_id, first_name, created_at, updated_at, last_seen_at) VALUES (5, 'Ольга', 0, 0, 0)")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query("INSERT INTO cart_lines (customer_id, offer_id, quantity, added_at) VALUES (1, 'p', 2, 0)").execute(store.pool()).await.unwrap();
        let outbox = vitrina::outbox::Outbox::new(store.clone(), config.outbox.clone());
        let req: vitrina::orders::CheckoutRequest = serde_json::from_value(serde_json::json!({
            "contact": {"name": "Ольга", "phone": "+79990001122"},
            "delivery": {"method": "pickup", "pickup_point": "Москва, ул. Примерная, 1 (10:00–21:00)"},
            "payment_method": "on_receipt"
        }))
        .unwrap();
        let (order, _) = vitrina::orders::place(&config, &store, &outbox, vitrina::auth::CustomerId(1), "k", &req, &vitrina::orders::NoCheckoutHooks).await.unwrap();
        store.close().await;
        order.id
    });
    let o = vitrina(dir.path(), &["orders", "list"], &env);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success()
            && out.contains("V-000001")
            && out.contains("new")
            && out.contains("3980.00"),
        "{out}{}",
        stderr(&o)
    );
    let o = vitrina(
        dir.path(),
        &[
            "orders",
            "set-status",
            &id.to_string(),
            "confirmed",
            "--note",
            "позвонили",
        ],
        &env,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = vitrina(
        dir.path(),
        &["orders", "set-status", &id.to_string(), "delivered"],
        &env,
    );
    assert_clean_failure(&o, "cannot become");
    let o = vitrina(dir.path(), &["orders", "cancel", &id.to_string()], &env);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = vitrina(dir.path(), &["orders", "show", &id.to_string()], &env);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("cancelled") && out.contains("позвонили") && out.contains("2 × Плед"),
        "{out}"
    );
    let o = vitrina(dir.path(), &["orders", "show", "999"], &env);
    assert_clean_failure(&o, "does not exist");
}

#[test]
fn links_open_the_shop_on_a_screen() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    let env = [("VITRINA_DATABASE__URL", url.as_str())];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = vitrina::config::DatabaseConfig {
            url: vitrina::config::Secret::new(url.clone()),
            ..Default::default()
        };
        let store = vitrina::store::Store::connect(&config).await.unwrap();
        store.migrate().await.unwrap();
        sqlx::query("INSERT INTO products (id, name, created_at, version) VALUES ('demo-0001', 'Куртка', 0, 1), ('abc#def', 'Плед', 0, 1)")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query("INSERT INTO sections (id, name, version) VALUES ('jackets', 'Куртки', 1)")
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
    });
    let run = |args: &[&str]| {
        let o = vitrina(dir.path(), args, &env);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    assert_eq!(
        run(&["links", "product", "demo-0001", "--bot", "shop_bot"]),
        "https://t.me/shop_bot?startapp=product_demo-0001"
    );
    assert_eq!(
        run(&["links", "--bot", "@shop_bot", "product", "abc#def"]),
        "https://t.me/shop_bot?startapp=product_b64YWJjI2RlZg"
    );
    assert_eq!(
        run(&["links", "section", "jackets", "--bot", "shop_bot"]),
        "https://t.me/shop_bot?startapp=section_jackets"
    );
    assert_eq!(
        run(&["links", "search", "куртка", "--bot", "shop_bot"]),
        "https://t.me/shop_bot?startapp=search_b640LrRg9GA0YLQutCw"
    );
    let o = vitrina(
        dir.path(),
        &["links", "product", "nope", "--bot", "shop_bot"],
        &env,
    );
    assert_clean_failure(&o, "no product \"nope\" in the catalog");
    let o = vitrina(
        dir.path(),
        &["links", "section", "nope", "--bot", "shop_bot"],
        &env,
    );
    assert_clean_failure(&o, "no section \"nope\" in the catalog");
    // Without --bot the username comes from Telegram, which needs the token.
    let o = vitrina(dir.path(), &["links", "product", "demo-0001"], &env);
    assert_clean_failure(&o, "telegram.bot_token is not set");
}
