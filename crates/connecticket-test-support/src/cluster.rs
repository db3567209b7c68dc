//! A replicated PostgreSQL of a test's own, for failover: a primary and a
//! standby streaming from it (synchronous or not), made from the server
//! binaries of Debian's packages in a temporary directory and torn down
//! when dropped. `initdb` refuses to run as root, so as root every step
//! runs as the `postgres` user.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where Debian keeps a PostgreSQL major version's server binaries.
fn server_binaries() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// A primary on `primary_port` and a standby on `standby_port`.
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    pub primary_port: u16,
    pub standby_port: u16,
}

impl Cluster {
    /// Makes and starts the pair; `None` (the test skips, saying so) where
    /// the server binaries are missing, unless
    /// `CONNECTICKET_TEST_POSTGRES_REQUIRED` is set.
    pub fn start(synchronous: bool) -> Option<Cluster> {
        let Some(bin) = server_binaries() else {
            assert!(
                std::env::var("CONNECTICKET_TEST_POSTGRES_REQUIRED").is_err(),
                "PostgreSQL's server binaries are required (apt-get install postgresql)"
            );
            eprintln!("skipped: no PostgreSQL server binaries under /usr/lib/postgresql");
            return None;
        };
        let dir = std::env::temp_dir().join(format!(
            "connecticket-cluster-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("the cluster's directory");
        let as_postgres = running_as_root();
        let cluster = Cluster {
            dir,
            bin,
            as_postgres,
            primary_port: free_port(),
            standby_port: free_port(),
        };
        if as_postgres {
            cluster.must(Command::new("chown").args(["postgres:postgres", &cluster.path("")]));
        }
        cluster.make_primary(synchronous);
        cluster.make_standby();
        cluster.wait_for_streaming(synchronous);
        Some(cluster)
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    fn must(&self, command: &mut Command) -> Output {
        let output = command.output().expect("a PostgreSQL tool");
        assert!(
            output.status.success(),
            "{command:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// A server binary, run as `postgres` when the tests run as root.
    fn tool(&self, name: &str, args: &[&str]) -> Output {
        self.must(&mut self.command(name, args))
    }

    fn command(&self, name: &str, args: &[&str]) -> Command {
        let program = self.bin.join(name);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.args(args).current_dir(Path::new("/tmp"));
        command
    }

    fn append(&self, file: &str, lines: &str) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.join(file))
            .expect("a configuration file");
        file.write_all(lines.as_bytes()).expect("written");
    }

    fn make_primary(&self, synchronous: bool) {
        self.tool(
            "initdb",
            &[
                "-D",
                &self.path("primary"),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
        );
        let names = if synchronous { "'standby'" } else { "''" };
        self.append(
            "primary/postgresql.conf",
            &format!(
                "\nport = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
                 wal_level = replica\nmax_wal_senders = 4\nsynchronous_standby_names = {names}\n\
                 synchronous_commit = on\n",
                self.primary_port,
                self.dir.display()
            ),
        );
        self.pg_ctl("primary", "start");
    }

    fn make_standby(&self) {
        let port = self.primary_port.to_string();
        self.tool(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                &self.path("standby"),
                "-R",
            ],
        );
        self.append(
            "standby/postgresql.conf",
            &format!("\nport = {}\n", self.standby_port),
        );
        self.append(
            "standby/postgresql.auto.conf",
            &format!(
                "\nprimary_conninfo = 'host=127.0.0.1 port={} user=postgres application_name=standby'\n",
                self.primary_port
            ),
        );
        self.pg_ctl("standby", "start");
    }

    fn pg_ctl(&self, node: &str, action: &str) {
        let log = self.path(&format!("{node}.log"));
        self.tool(
            "pg_ctl",
            &["-D", &self.path(node), "-l", &log, "-w", action],
        );
    }

    /// Runs one statement on a node with psql; answers what it printed.
    pub fn sql(&self, port: u16, statement: &str) -> String {
        self.sql_in(port, "postgres", statement)
    }

    /// The same, in another database of the node.
    pub fn sql_in(&self, port: u16, database: &str, statement: &str) -> String {
        let output = self.must(Command::new("psql").args([
            "-X",
            "-q",
            "-t",
            "-A",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "-d",
            database,
            "-c",
            statement,
        ]));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    fn wait_for_streaming(&self, synchronous: bool) {
        let wanted = if synchronous { "sync" } else { "async" };
        for _ in 0..200 {
            let state = self.sql(
                self.primary_port,
                "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'",
            );
            if state == wanted {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the standby never streamed as {wanted}");
    }

    /// A database URL for a node.
    pub fn url(&self, port: u16, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/{database}")
    }

    /// Kills the primary as a crash would (`pg_ctl stop -m immediate`).
    pub fn stop_primary_immediately(&self) {
        self.tool(
            "pg_ctl",
            &["-D", &self.path("primary"), "-m", "immediate", "-w", "stop"],
        );
    }

    /// Starts the killed primary again, committing without waiting for a
    /// standby (its own crash recovery replays what it committed).
    pub fn restart_primary_alone(&self) {
        let log = self.path("primary.log");
        self.tool(
            "pg_ctl",
            &[
                "-D",
                &self.path("primary"),
                "-l",
                &log,
                "-o",
                "-c synchronous_standby_names=",
                "-w",
                "start",
            ],
        );
    }

    /// The standby stops receiving (its `primary_conninfo` emptied): from
    /// now on what the primary commits exists only there, as with a
    /// standby that lags; a synchronous primary's commits wait for it.
    pub fn cut_standby_off(&self) {
        self.sql(self.standby_port, "ALTER SYSTEM SET primary_conninfo = ''");
        self.sql(self.standby_port, "SELECT pg_reload_conf()");
        self.poll("the primary to lose its standby", || {
            self.sql(
                self.primary_port,
                "SELECT count(*) FROM pg_stat_replication",
            ) == "0"
        });
    }

    /// Whether a session on the primary waits for a synchronous standby
    /// to confirm its commit.
    pub fn commit_waits_for_standby(&self) -> bool {
        self.sql(
            self.primary_port,
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'",
        ) != "0"
    }

    /// Polls `done` every 50 ms for up to 10 s.
    fn poll(&self, what: &str, done: impl Fn() -> bool) {
        for _ in 0..200 {
            if done() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("timed out waiting for {what}");
    }

    /// The standby streams from the primary again (undoes
    /// [`Cluster::cut_standby_off`]).
    pub fn reconnect_standby(&self) {
        self.sql(
            self.standby_port,
            &format!(
                "ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port={} user=postgres application_name=standby'",
                self.primary_port
            ),
        );
        self.sql(self.standby_port, "SELECT pg_reload_conf()");
    }

    /// Promotes the standby to primary (`pg_ctl promote`), waiting until
    /// it takes writes. It inherited the old primary's
    /// `synchronous_standby_names`; with no standby of its own left it
    /// would make every commit wait forever, so, as an operator or
    /// pg_auto_failover would, it is told to commit alone.
    pub fn promote_standby(&self) {
        self.tool("pg_ctl", &["-D", &self.path("standby"), "-w", "promote"]);
        self.sql(
            self.standby_port,
            "ALTER SYSTEM SET synchronous_standby_names = ''",
        );
        self.sql(self.standby_port, "SELECT pg_reload_conf()");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in ["standby", "primary"] {
            let data = self.path(node);
            let stop = ["-D", data.as_str(), "-m", "immediate", "stop"];
            let _ = self.command("pg_ctl", &stop).output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
