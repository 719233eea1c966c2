//! A real PostgreSQL server in a throwaway cluster (`initdb` in a temp dir, a free loopback port),
//! stopped and deleted when dropped.
//!
//! `initdb` and `postgres` refuse to run as root; as root, the cluster belongs to the `postgres`
//! user (created by Debian's `postgresql` package) or else `nobody`, and both run as that user.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::redis_server::free_port;

pub struct PostgresServer {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PostgresServer {
    /// Creates a cluster and starts it; returns once it accepts connections.
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "clerk-webhooks-pg-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let owner = unprivileged_owner();
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
        }
        let status = command(&bin("initdb"), owner)
            .args([
                "--auth=trust",
                "--username=clerk",
                "--encoding=UTF8",
                "--no-sync",
                "--no-instructions",
            ])
            .arg("--pgdata")
            .arg(dir.join("data"))
            .current_dir(&dir)
            .stdout(Stdio::null())
            .status()
            .expect("initdb must be installed (scripts/test.sh installs Debian's postgresql)");
        assert!(status.success(), "initdb failed");
        let mut server = Self {
            port: free_port(),
            dir,
            child: None,
        };
        server.run();
        server
    }

    /// Starts the server again on the same cluster and port (after [`kill`](Self::kill)).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is running");
        self.run();
    }

    fn run(&mut self) {
        let mut child = command(&bin("postgres"), unprivileged_owner())
            .arg("-D")
            .arg(self.dir.join("data"))
            .args([
                "-p",
                &self.port.to_string(),
                "-c",
                "listen_addresses=127.0.0.1",
            ])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", self.dir.display()))
            .args(["-c", "max_connections=60"])
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("postgres must be installed (scripts/test.sh installs Debian's postgresql)");
        // Waits on the server's own log line, not on a timer.
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("ready to accept connections") => break,
                Some(Ok(_)) => continue,
                _ => panic!("postgres on port {} exited before it was ready", self.port),
            }
        }
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        self.child = Some(child);
    }

    pub fn url(&self) -> String {
        format!("postgres://clerk@127.0.0.1:{}/postgres", self.port)
    }

    /// `kill -9` of the postmaster and every backend at once, as when the machine dies: no
    /// shutdown, no checkpoint, no goodbye to the clients.
    pub fn kill(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let backends = Command::new("pgrep")
            .args(["-P", &child.id().to_string()])
            .output()
            .unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        for pid in String::from_utf8_lossy(&backends.stdout).split_whitespace() {
            let _ = Command::new("kill").args(["-KILL", pid]).status();
        }
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // SIGQUIT: an immediate shutdown that still releases shared memory.
            let _ = Command::new("kill")
                .args(["-QUIT", &child.id().to_string()])
                .status();
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The directory of PostgreSQL's programs: `PG_BIN`, else where `initdb` is on the PATH, else the
/// newest of Debian's `/usr/lib/postgresql/*/bin`.
fn bin(program: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return Path::new(&dir).join(program);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("initdb"))
        .find(|initdb| initdb.exists());
    if let Some(initdb) = on_path {
        let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        return real.with_file_name(program);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse().ok()?, entry.path())))
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, dir)) => dir.join("bin").join(program),
        None => PathBuf::from(program),
    }
}

/// As root, the uid and gid the cluster runs as; otherwise `None` (run as ourselves).
fn unprivileged_owner() -> Option<(u32, u32)> {
    let euid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&euid.stdout).trim() != "0" {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    ["postgres", "nobody"].iter().find_map(|user| {
        passwd.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(user))
                .then(|| (fields[2].parse().unwrap(), fields[3].parse().unwrap()))
        })
    })
}

fn command(program: &Path, owner: Option<(u32, u32)>) -> Command {
    let mut command = Command::new(program);
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid).env("HOME", "/tmp");
    }
    command.env_remove("PGDATA");
    command
}
