//! A Mosquitto process of our own on a free loopback port, stopped when dropped.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The configuration written for the benchmark besides the listener, so that Mosquitto, like the
/// reference broker, delivers every message to a connected subscriber (see the README):
/// * `max_inflight_messages 0`: no limit on unacknowledged QoS 1 deliveries to a 3.1.1 client,
///   as in the reference broker (which only limits them by a 5.0 client's Receive Maximum). With
///   the default, 20, further QoS 1 deliveries wait in the queue.
/// * `max_queued_messages 0`: no limit on that queue, nor (in Mosquitto 2.0) on the packets
///   waiting to be written to a connection, beyond which (default 1000) Mosquitto drops
///   messages, QoS 0 ones included. The reference broker makes the publisher wait instead, which
///   Mosquitto cannot do.
///
/// `set_tcp_nodelay` stays off (the default) although the reference broker sets `TCP_NODELAY`:
/// Mosquitto writes each packet with its own `write`, and Nagle's algorithm coalescing them
/// doubles its QoS 0 throughput here, while the reference broker coalesces its writes itself.
///
/// `TOUCHSTONE_MOSQUITTO_SETTINGS` replaces them (lines separated by `;`; empty: Mosquitto's
/// defaults).
pub const SETTINGS: &str = "max_inflight_messages 0\nmax_queued_messages 0\n";

/// The settings used: [`SETTINGS`] or `$TOUCHSTONE_MOSQUITTO_SETTINGS`.
pub fn settings() -> String {
    match std::env::var("TOUCHSTONE_MOSQUITTO_SETTINGS") {
        Ok(s) => s
            .split(';')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| format!("{l}\n"))
            .collect(),
        Err(_) => SETTINGS.to_owned(),
    }
}

/// A running Mosquitto.
pub struct Mosquitto {
    child: Child,
    dir: PathBuf,
    /// Where it listens.
    pub addr: SocketAddr,
    /// `mosquitto -h`'s first line.
    pub version: String,
    /// The configuration lines besides the listener.
    pub settings: String,
}

/// The binary: `$TOUCHSTONE_MOSQUITTO`, else `mosquitto` on the `PATH`, else `/usr/sbin/mosquitto`.
pub fn find() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TOUCHSTONE_MOSQUITTO") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|d| d.join("mosquitto"))
        .find(|p| p.is_file())
}

impl Mosquitto {
    /// Starts `bin` with [`settings`] on a free port of 127.0.0.1 and waits until it accepts.
    pub fn start(bin: &Path) -> Result<Mosquitto, String> {
        let version = Command::new(bin)
            .arg("-h")
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_owned()
            })
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let dir = std::env::temp_dir().join(format!("touchstone-bench-{}", std::process::id()));
        let settings = settings();
        let mut last_error = String::new();
        // The free port is found by binding and releasing it: retry if another process took it.
        for _ in 0..3 {
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| e.to_string())?
                .port();
            let conf = dir.join("mosquitto.conf");
            let text = format!("listener {port} 127.0.0.1\nallow_anonymous true\n{settings}");
            std::fs::write(&conf, text).map_err(|e| format!("{}: {e}", conf.display()))?;
            let log =
                std::fs::File::create(dir.join("mosquitto.log")).map_err(|e| e.to_string())?;
            let child = Command::new(bin)
                .arg("-c")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .map_err(|e| format!("{}: {e}", bin.display()))?;
            let mut m = Mosquitto {
                child,
                dir: dir.clone(),
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                version: version.clone(),
                settings: settings.clone(),
            };
            match m.wait_ready() {
                Ok(()) => return Ok(m),
                Err(e) => last_error = e, // dropping `m` stops the process
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        Err(last_error)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("mosquitto exited ({status}): {}", self.log()));
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("mosquitto not listening after 5 s: {}", self.log()))
    }

    /// The process id, for CPU accounting.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The end of its log.
    pub fn log(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("mosquitto.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }

    /// Whether it is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
