//! Opening connections to whichever server is the primary.
//!
//! libpq accepts several hosts in one URL and a `target_session_attrs`
//! that says which of them will do (`read-write`: the one that takes
//! writes). sqlx reads one host only (launchbadge/sqlx#2290), so the list
//! is read here and each host is tried in turn, the one that served last
//! first. A failover needs no restart: once the old primary's connections
//! break, the next connection opened finds the promoted standby. A single
//! host — a virtual address in front of the cluster, a managed endpoint —
//! is the list of one it always was.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use connecticket_domain::StoreError;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, Row};

/// Which server a connection may be opened on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// Any server that accepts the connection (libpq's `any`): one host,
    /// nothing to choose between.
    Any,
    /// One whose sessions may write (libpq's `read-write`).
    ReadWrite,
    /// One that is not in recovery (libpq's `primary`).
    Primary,
}

impl Target {
    fn parse(value: &str) -> Result<Self, String> {
        match value {
            "any" => Ok(Target::Any),
            "read-write" => Ok(Target::ReadWrite),
            "primary" => Ok(Target::Primary),
            other => Err(format!(
                "target_session_attrs={other} is not one Connecticket can work with: \
                 it writes, so use read-write, primary or any"
            )),
        }
    }
}

struct Host {
    /// `host:port` as the URL gave it: no credentials, fit for logs and
    /// metrics.
    label: String,
    options: PgConnectOptions,
}

/// What a server said it is when a connection was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Primary,
    Standby,
    Unreachable,
}

impl Role {
    const ALL: [Role; 3] = [Role::Primary, Role::Standby, Role::Unreachable];

    fn name(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Standby => "standby",
            Role::Unreachable => "unreachable",
        }
    }
}

pub(crate) struct Connector {
    hosts: Vec<Host>,
    target: Target,
    /// The host that served the last connection: tried first.
    current: AtomicUsize,
    connect_timeout: Duration,
    /// Raised whenever a connection is found broken: connections opened
    /// before are suspect (the server they are on may be gone or demoted),
    /// and are closed rather than lent again.
    generation: AtomicU64,
    /// Connections lost and not yet replaced.
    owed: AtomicU64,
}

impl Connector {
    /// Reads a `postgres://` URL, which may name several hosts
    /// (`h1:5432,h2:5432`) as libpq's do.
    pub(crate) fn parse(url: &str, connect_timeout: Duration) -> Result<Self, StoreError> {
        let unreadable = |why: String| {
            StoreError::backend(
                "reading the PostgreSQL URL",
                std::io::Error::new(std::io::ErrorKind::InvalidInput, why),
            )
        };
        let split = split_hosts(url).map_err(unreadable)?;
        let target = match &split.target {
            Some(value) => Target::parse(value).map_err(unreadable)?,
            // Several hosts are given for a failover, and a standby cannot
            // take this server's writes: never settle for one.
            None if split.hosts.len() > 1 => Target::ReadWrite,
            None => Target::Any,
        };
        let mut hosts = Vec::with_capacity(split.hosts.len());
        for host in &split.hosts {
            let single = format!("{}{host}{}", split.before, split.after);
            let options: PgConnectOptions = single
                .parse()
                .map_err(|error: sqlx::Error| unreadable(format!("host {host}: {error}")))?;
            hosts.push(Host {
                label: host.clone(),
                options,
            });
        }
        Ok(Connector {
            hosts,
            target,
            current: AtomicUsize::new(0),
            connect_timeout,
            generation: AtomicU64::new(0),
            owed: AtomicU64::new(0),
        })
    }

    /// The generation a connection opened now belongs to.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A connection of `generation` broke: every connection of that
    /// generation or older is suspect. Several connections breaking at
    /// once (a failover) count once per connection but raise the
    /// generation once.
    pub(crate) fn lost(&self, generation: u64) {
        let _ = self.generation.compare_exchange(
            generation,
            generation + 1,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
        self.owed.fetch_add(1, Ordering::AcqRel);
        metrics::counter!("connecticket_database_disconnects_total").increment(1);
    }

    /// Opens a connection to a server of the target kind, trying the host
    /// that served last first, then the others in the URL's order.
    pub(crate) async fn connect(&self) -> Result<PgConnection, StoreError> {
        let first = self.current.load(Ordering::Acquire);
        let mut refusals = Vec::new();
        for step in 0..self.hosts.len() {
            let index = (first + step) % self.hosts.len();
            let attempt = tokio::time::timeout(self.connect_timeout, self.open(index)).await;
            let host = &self.hosts[index];
            let refusal = match attempt {
                Ok(Ok(conn)) => {
                    self.served(index, first);
                    return Ok(conn);
                }
                Ok(Err(refusal)) => refusal,
                Err(_) => {
                    record_role(host, Role::Unreachable);
                    format!("no answer within {:?}", self.connect_timeout)
                }
            };
            refusals.push(format!("{}: {refusal}", host.label));
        }
        let wanted = match self.target {
            Target::Any => "server",
            Target::ReadWrite | Target::Primary => "primary",
        };
        Err(StoreError::Unreachable(format!(
            "no {wanted} could be reached ({})",
            refusals.join("; ")
        )))
    }

    /// Connects to the host at `index` and asks what it is.
    async fn open(&self, index: usize) -> Result<PgConnection, String> {
        let host = &self.hosts[index];
        let mut conn = match PgConnection::connect_with(&host.options).await {
            Ok(conn) => conn,
            Err(error) => {
                record_role(host, Role::Unreachable);
                return Err(error.to_string());
            }
        };
        let asked = sqlx::query(
            "SELECT pg_is_in_recovery() AS standby, \
                    current_setting('transaction_read_only') = 'on' AS read_only",
        )
        .fetch_one(&mut conn)
        .await;
        let (standby, read_only) = match asked.and_then(|row| {
            Ok((
                row.try_get::<bool, _>("standby")?,
                row.try_get::<bool, _>("read_only")?,
            ))
        }) {
            Ok(answer) => answer,
            Err(error) => {
                record_role(host, Role::Unreachable);
                return Err(error.to_string());
            }
        };
        record_role(
            host,
            if standby {
                Role::Standby
            } else {
                Role::Primary
            },
        );
        let refused = match self.target {
            Target::Any => None,
            Target::ReadWrite if read_only => Some("it is read-only"),
            Target::Primary if standby => Some("it is a standby"),
            Target::ReadWrite | Target::Primary => None,
        };
        match refused {
            Some(why) => {
                let _ = conn.close().await;
                Err(why.to_owned())
            }
            None => Ok(conn),
        }
    }

    /// The address of the host that served last, for work that needs a
    /// pool of its own (migrations).
    pub(crate) fn current_options(&self) -> PgConnectOptions {
        self.hosts[self.current.load(Ordering::Acquire) % self.hosts.len()]
            .options
            .clone()
    }

    /// Remembers the host that served, and counts a lost connection as
    /// replaced.
    fn served(&self, index: usize, previous: usize) {
        if index != previous {
            self.current.store(index, Ordering::Release);
            metrics::counter!("connecticket_database_failovers_total").increment(1);
            tracing::warn!(
                host = %self.hosts[index].label,
                was = %self.hosts[previous].label,
                "the database primary is now on another host"
            );
        }
        let replaced = self
            .owed
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |owed| {
                owed.checked_sub(1)
            });
        if replaced.is_ok() {
            metrics::counter!("connecticket_database_reconnects_total").increment(1);
        }
    }
}

/// Sets `connecticket_database_host_role{host, role}`: 1 for the role the
/// host showed when last asked, 0 for the others.
fn record_role(host: &Host, role: Role) {
    for each in Role::ALL {
        metrics::gauge!(
            "connecticket_database_host_role",
            "host" => host.label.clone(),
            "role" => each.name()
        )
        .set(if each == role { 1.0 } else { 0.0 });
    }
}

/// A URL cut around its host list: `before` + one host + `after` is a
/// one-host URL; `target_session_attrs` is taken out of the query, since
/// it is read here.
#[derive(Debug, PartialEq)]
struct SplitUrl {
    before: String,
    hosts: Vec<String>,
    after: String,
    target: Option<String>,
}

fn split_hosts(url: &str) -> Result<SplitUrl, String> {
    let scheme_end = url
        .find("://")
        .ok_or_else(|| "it must start with postgres:// or postgresql://".to_owned())?
        + 3;
    let (scheme, rest) = url.split_at(scheme_end);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(authority_end);
    let (userinfo, host_list) = match authority.rfind('@') {
        Some(at) => authority.split_at(at + 1),
        None => ("", authority),
    };
    let hosts: Vec<String> = host_list.split(',').map(str::to_owned).collect();
    if hosts.iter().any(String::is_empty) {
        return Err("a host in its list is empty".to_owned());
    }
    let (path, query) = match path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path_and_query, None),
    };
    let mut target = None;
    let mut kept = Vec::new();
    for pair in query.into_iter().flat_map(|query| query.split('&')) {
        match pair.split_once('=') {
            Some(("target_session_attrs", value)) => target = Some(value.to_owned()),
            _ if pair.is_empty() => {}
            _ => kept.push(pair),
        }
    }
    let after = if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    };
    Ok(SplitUrl {
        before: format!("{scheme}{userinfo}"),
        hosts,
        after,
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_hosts_and_the_target_are_read_as_libpq_does() {
        let split = split_hosts(
            "postgres://app:p%40ss@db1:5432,db2:5433,[::1]:5434/care?sslmode=prefer&target_session_attrs=read-write",
        )
        .unwrap();
        assert_eq!(split.before, "postgres://app:p%40ss@");
        assert_eq!(split.hosts, ["db1:5432", "db2:5433", "[::1]:5434"]);
        assert_eq!(split.after, "/care?sslmode=prefer");
        assert_eq!(split.target.as_deref(), Some("read-write"));
    }

    #[test]
    fn one_host_is_the_url_it_was() {
        let url = "postgres://postgres@127.0.0.1:5432/test";
        let split = split_hosts(url).unwrap();
        assert_eq!(split.hosts, ["127.0.0.1:5432"]);
        assert_eq!(
            format!("{}{}{}", split.before, split.hosts[0], split.after),
            url
        );
        assert_eq!(split.target, None);
    }

    #[test]
    fn the_target_defaults_to_read_write_only_for_several_hosts() {
        let two = Connector::parse("postgres://u@a:1,b:2/db", Duration::from_secs(1)).unwrap();
        assert_eq!(two.target, Target::ReadWrite);
        let one = Connector::parse("postgres://u@a:1/db", Duration::from_secs(1)).unwrap();
        assert_eq!(one.target, Target::Any);
        let primary = Connector::parse(
            "postgres://u@a:1,b:2/db?target_session_attrs=primary",
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(primary.target, Target::Primary);
    }

    #[test]
    fn targets_that_cannot_write_and_broken_lists_are_refused() {
        let refused = |url: &str| Connector::parse(url, Duration::from_secs(1)).err();
        let standby = refused("postgres://u@a:1,b:2/db?target_session_attrs=standby");
        assert!(standby
            .and_then(|e| std::error::Error::source(&e).map(ToString::to_string))
            .is_some_and(|why| why.contains("standby is not one Connecticket can work with")));
        assert!(refused("postgres://u@a:1,,b:2/db").is_some());
        assert!(refused("db1:5432").is_some());
    }
}
