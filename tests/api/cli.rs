//! The `feria` binary: configuration check and user creation.

use std::process::Command;

fn feria(dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_feria"));
    cmd.env_clear().current_dir(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("feria runs")
}

#[test]
fn config_check_lists_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let out = feria(
        dir.path(),
        &[("FERIA_ENV", "production"), ("JWT_SECRET", "short"), ("PORT", "http"), ("EMAIL_SMTP_HOST", "smtp.test")],
        &["config", "check"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for expected in
        ["JWT_SECRET: must be at least 32 bytes", "ENCRYPTION_KEY: required in production", "PORT: 'http'", "EMAIL_FROM: required"]
    {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert!(err.contains("4 problem(s)"), "{err}");
}

#[test]
fn config_check_prints_the_effective_configuration_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("feria.toml"), "port = 4100\nlog_level = \"debug\"\n").unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "EMAIL_SMTP_HOST=smtp.test\nEMAIL_FROM=shop@test.io\nEMAIL_SMTP_USER=u\nEMAIL_SMTP_PASS=smtp-secret-value\n",
    )
    .unwrap();
    let jwt = "j".repeat(40);
    let out = feria(
        dir.path(),
        &[("JWT_SECRET", &jwt), ("LOG_LEVEL", "warn"), ("DATABASE_URL", "postgres://app:db-password@db.test/feria")],
        &["config", "check"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("PORT = 4100"), "feria.toml read: {stdout}");
    assert!(stdout.contains("LOG_LEVEL = warn"), "environment beats feria.toml: {stdout}");
    assert!(stdout.contains("EMAIL_SMTP_HOST = smtp.test"), ".env read: {stdout}");
    for secret in [jwt.as_str(), "smtp-secret-value", "db-password"] {
        assert!(!stdout.contains(secret), "{secret} leaked:\n{stdout}");
    }
    assert!(stdout.contains("JWT_SECRET = ***"));
}

#[test]
fn user_create_makes_an_admin_who_can_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("DATABASE_URL", "sqlite://./data/feria.db"), ("ARGON2_MEMORY_KIB", "1024"), ("ARGON2_ITERATIONS", "1")];
    let out = feria(
        dir.path(),
        &env,
        &["user", "create", "--email", "jefa@tienda.test", "--name", "Jefa", "--password", "clave-jefa", "--admin"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ADMIN_ROLE"));
    assert!(dir.path().join("data/feria.db").exists(), "SQLite file created under ./data");
    let dup = feria(dir.path(), &env, &["user", "create", "--email", "jefa@tienda.test", "--name", "Jefa", "--password", "clave-jefa"]);
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    let migrate = feria(dir.path(), &env, &["migrate"]);
    assert!(String::from_utf8_lossy(&migrate.stdout).contains("nothing to migrate"));
}

#[test]
fn seed_demo_loads_the_catalog_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = feria(dir.path(), &[], &["seed", "--demo"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("demo catalog: 252 products created, 0 already there"), "{stdout}");
    let again = feria(dir.path(), &[], &["seed", "--demo"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 products created, 252 already there"));
}
