//! Starts a private Eclipse Mosquitto on free loopback ports for one test, and kills it at the
//! end. Without the `mosquitto` binary the test is skipped with a message, unless
//! `TOUCHSTONE_REQUIRE_MOSQUITTO` is set (as in CI), in which case it fails.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running broker: an anonymous listener on `port`, and one requiring user `tsuser` with
/// password `tspass` on `auth_port`.
pub struct Mosquitto {
    child: Child,
    dir: PathBuf,
    /// Anonymous MQTT listener.
    pub port: u16,
    /// Listener that requires `tsuser` / `tspass`.
    pub auth_port: u16,
}

/// User name the authentication listener accepts.
pub const USER: &str = "tsuser";
/// Its password.
pub const PASSWORD: &str = "tspass";

fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([
            "/usr/sbin".into(),
            "/usr/local/sbin".into(),
            "/usr/bin".into(),
        ])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn find_binary() -> Option<PathBuf> {
    // TOUCHSTONE_MOSQUITTO names the binary to use (a path that is not a file: none).
    match std::env::var("TOUCHSTONE_MOSQUITTO") {
        Ok(p) => Some(PathBuf::from(p)).filter(|p| p.is_file()),
        Err(_) => find("mosquitto"),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Starts Mosquitto, or returns `None` (after printing why) when it is not installed and not
/// required.
pub fn start(test: &str) -> Option<Mosquitto> {
    let Some(bin) = find_binary() else {
        if std::env::var_os("TOUCHSTONE_REQUIRE_MOSQUITTO").is_some() {
            panic!("{test}: the mosquitto binary is required (TOUCHSTONE_REQUIRE_MOSQUITTO is set) but was not found");
        }
        eprintln!("SKIPPED {test}: mosquitto is not installed (apt-get install mosquitto; set TOUCHSTONE_REQUIRE_MOSQUITTO=1 to make this a failure)");
        return None;
    };
    let passwd_tool =
        find("mosquitto_passwd").unwrap_or_else(|| bin.with_file_name("mosquitto_passwd"));
    for attempt in 0..5 {
        let port = free_port();
        let auth_port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "touchstone-mosquitto-{}-{test}-{attempt}-{port}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let passwd = dir.join("passwd");
        let hashed = Command::new(&passwd_tool)
            .args(["-c", "-b"])
            .arg(&passwd)
            .args([USER, PASSWORD])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            hashed,
            "{test}: cannot write a password file with {}",
            passwd_tool.display()
        );
        let conf = dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "per_listener_settings true\n\
                 log_dest stderr\n\
                 listener {port} 127.0.0.1\n\
                 allow_anonymous true\n\
                 listener {auth_port} 127.0.0.1\n\
                 allow_anonymous false\n\
                 password_file {}\n",
                passwd.display()
            ),
        )
        .expect("config");
        // Mosquitto started as root drops to its own user: let it read the files.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for p in [&dir, &conf, &passwd] {
                let mode = if p.is_dir() { 0o755 } else { 0o644 };
                let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
            }
        }
        let mut child = Command::new(&bin)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{test}: cannot start {}: {e}", bin.display()));
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut up = false;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break; // exited: port taken, try again
            }
            let a = TcpStream::connect(("127.0.0.1", port)).is_ok();
            let b = TcpStream::connect(("127.0.0.1", auth_port)).is_ok();
            if a && b {
                up = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if up {
            return Some(Mosquitto {
                child,
                dir,
                port,
                auth_port,
            });
        }
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(&dir);
    }
    panic!("{test}: mosquitto did not start (5 attempts)");
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
