//! Choosing and opening the storage backend from a database URL.
//!
//! The scheme decides: `sqlite://PATH` (or `sqlite:PATH`) or
//! `postgres://…` (`postgresql://…`). Anything else is refused instead of
//! being guessed at: a mistyped URL must not silently create an empty
//! database.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use connecticket_domain::store::Store;
use connecticket_store_postgres::PostgresOptions;
use connecticket_store_sqlite::SqliteOptions;

/// Tuning for whichever backend the URL selects.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    pub sqlite: SqliteOptions,
    pub postgres: PostgresOptions,
}

/// A SQLite file under `./data`, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/connecticket.db";

#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// The engine, for records that must not carry the address (it may
    /// hold a password).
    pub fn kind(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            DatabaseUrl::Postgres(url) => f.debug_tuple("Postgres").field(&redact(url)).finish(),
        }
    }
}

/// A database URL fit for a log line or a `Debug` dump: the password (in
/// the authority or as a parameter) replaced by `***`.
pub fn redact(url: &str) -> String {
    let mut out = match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((credentials, host)) => match credentials.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
                None => url.to_owned(),
            },
            None => url.to_owned(),
        },
        None => url.to_owned(),
    };
    if let Some((base, query)) = out.clone().split_once('?') {
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out = format!("{base}?{}", query.join("&"));
    }
    out
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let url = url.trim();
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                bail!("the SQLite URL names no file; use sqlite://PATH");
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        bail!("unsupported database URL; use sqlite://PATH or postgres://USER@HOST/DATABASE (the default is {DEFAULT_DATABASE_URL})")
    }
}

/// Opens the store the URL names, creating a SQLite file's directory.
pub async fn open(url: &str, options: StoreOptions) -> anyhow::Result<Arc<dyn Store>> {
    match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).with_context(|| {
                    format!("cannot create the data directory {}", parent.display())
                })?;
            }
            let store = connecticket_store_sqlite::open(&path, options.sqlite)
                .await
                .with_context(|| format!("cannot open the SQLite database {}", path.display()))?;
            Ok(Arc::new(store))
        }
        DatabaseUrl::Postgres(url) => {
            let store = connecticket_store_postgres::open(&url, options.postgres)
                .await
                .context("cannot open the PostgreSQL database")?;
            Ok(Arc::new(store))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The migration files in an engine crate's `migrations` folder, as
    /// `(version, name)` from `0009_one_administration.sql`.
    fn files_of(engine: &str) -> Vec<(i64, String)> {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(format!("connecticket-store-{engine}"))
            .join("migrations");
        let mut files: Vec<(i64, String)> = std::fs::read_dir(&folder)
            .unwrap_or_else(|error| panic!("{}: {error}", folder.display()))
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter_map(|file| {
                let stem = file.strip_suffix(".sql")?;
                let (version, name) = stem.split_once('_')?;
                Some((version.parse().ok()?, name.to_owned()))
            })
            .collect();
        files.sort();
        files
    }

    /// Both engines take the same steps: a migration added to one and not
    /// the other, or named differently, or left out of its engine's list,
    /// fails here before it fails a deployment.
    #[test]
    fn both_engines_migrate_in_the_same_steps() {
        let listed = |migrations: &[(i64, &str, &str)]| -> Vec<(i64, String)> {
            migrations
                .iter()
                .map(|(version, name, _)| (*version, (*name).to_owned()))
                .collect()
        };
        let sqlite = listed(connecticket_store_sqlite::MIGRATIONS);
        let postgres = listed(connecticket_store_postgres::MIGRATIONS);
        assert_eq!(sqlite, postgres, "the engines' migration lists differ");
        assert_eq!(
            sqlite,
            files_of("sqlite"),
            "SQLite's list and its files differ"
        );
        assert_eq!(
            postgres,
            files_of("postgres"),
            "PostgreSQL's list and its files differ"
        );
        let versions: Vec<i64> = sqlite.iter().map(|(version, _)| *version).collect();
        let consecutive: Vec<i64> = (1..=sqlite.len() as i64).collect();
        assert_eq!(versions, consecutive, "versions must count up from 1");
    }

    #[test]
    fn the_scheme_picks_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db").ok(),
            Some(DatabaseUrl::Sqlite("data/x.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/ct.db").ok(),
            Some(DatabaseUrl::Sqlite("/var/lib/ct.db".into()))
        );
        assert!(DatabaseUrl::parse("data/x.db").is_err());
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert_eq!(
            DatabaseUrl::parse("postgres://postgres@127.0.0.1/test").ok(),
            Some(DatabaseUrl::Postgres(
                "postgres://postgres@127.0.0.1/test".into()
            ))
        );
    }

    #[test]
    fn passwords_never_reach_debug_output() {
        let url =
            DatabaseUrl::parse("postgres://app:s3cret@db:5432/ct?sslmode=require&password=other")
                .expect("valid");
        let shown = format!("{url:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("other"),
            "{shown}"
        );
        assert!(shown.contains("app:***@db:5432/ct"), "{shown}");
        assert_eq!(redact("postgres://app@db/ct"), "postgres://app@db/ct");
        // A failover URL names several hosts; the password still goes.
        assert_eq!(
            redact("postgres://app:s3cret@db1:5432,db2:5432/ct?target_session_attrs=read-write"),
            "postgres://app:***@db1:5432,db2:5432/ct?target_session_attrs=read-write"
        );
    }
}
