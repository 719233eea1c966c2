//! A real `redis-server` on a free loopback port, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

pub struct RedisServer {
    pub port: u16,
    child: Child,
}

impl RedisServer {
    /// Starts a server on a free port and returns once it accepts connections.
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// Starts a server on `port` (to restart one that was stopped).
    pub fn start_on(port: u16) -> Self {
        Self::start_with(port, None)
    }

    /// Starts a server on `port` that keeps its data in `dir` (an append-only file synced on every
    /// write), so a restart on the same `dir` loses nothing that was acknowledged.
    pub fn start_durable_on(port: u16, dir: &std::path::Path) -> Self {
        Self::start_with(port, Some((dir, "always")))
    }

    /// Starts a server with its append-only file in `dir`, flushed as `appendfsync` says.
    pub fn start_with_fsync(dir: &std::path::Path, appendfsync: &str) -> Self {
        Self::start_with(free_port(), Some((dir, appendfsync)))
    }

    fn start_with(port: u16, aof: Option<(&std::path::Path, &str)>) -> Self {
        let persistence: Vec<String> = match aof {
            None => ["--save", "", "--appendonly", "no"]
                .map(String::from)
                .to_vec(),
            Some((dir, appendfsync)) => vec![
                "--save".into(),
                "".into(),
                "--appendonly".into(),
                "yes".into(),
                "--appendfsync".into(),
                appendfsync.into(),
                "--dir".into(),
                dir.display().to_string(),
            ],
        };
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(&persistence)
            .args(["--daemonize", "no", "--logfile", ""])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (scripts/test.sh installs it)");
        // Waits on the server's own log line, not on a timer.
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("Ready to accept connections") => break,
                Some(Ok(_)) => continue,
                _ => panic!("redis-server on port {port} exited before it was ready"),
            }
        }
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { port, child }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Freezes the server (SIGSTOP): connections stay open and nothing answers, as with a Redis
    /// stuck on a slow disk. `thaw` resumes it.
    pub fn freeze(&self) {
        self.signal("STOP");
    }

    pub fn thaw(&self) {
        self.signal("CONT");
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} failed");
    }

    /// A graceful stop (`SIGTERM`, as a managed service's maintenance restart sends it): Redis
    /// flushes its append-only file and exits; returns the port once it has.
    pub fn terminate(mut self) -> u16 {
        self.signal("TERM");
        let _ = self.child.wait();
        self.port
    }

    /// `kill -9`: returns the port once the process is gone.
    pub fn stop(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
