//! A real `redis-server` for output tests, started on a free loopback port in
//! a temporary directory (no snapshots, no append-only file), and a small
//! RESP client to read back what ferret stored.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running redis-server; killed when dropped.
pub struct RedisServer {
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: PathBuf,
}

/// True if `redis-server` can be run here.
pub fn available() -> bool {
    Command::new("redis-server").arg("--version").output().is_ok_and(|o| o.status.success())
}

impl RedisServer {
    /// Starts a server on a free port with its files in `dir`.
    pub fn start(dir: &Path) -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut s = RedisServer { child: None, port, dir: dir.to_path_buf() };
        s.restart();
        s
    }

    /// Starts the server again on the same port (after [`kill`](Self::kill)).
    pub fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--dir", self.dir.to_str().unwrap(), "--daemonize", "no", "--loglevel", "warning"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut c) = Client::connect(self.port) {
                if c.cmd(&["PING"]) == Value::Simple("PONG".into()) {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "redis-server did not answer on port {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server (SIGKILL) and waits for it: everything it held is gone.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A client connection.
    pub fn client(&self) -> Client {
        Client::connect(self.port).expect("redis answers")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A RESP value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Value>),
}

impl Value {
    /// The bulk string, as text.
    pub fn text(&self) -> String {
        match self {
            Value::Bulk(Some(b)) => String::from_utf8(b.clone()).unwrap(),
            other => panic!("not a bulk string: {other:?}"),
        }
    }

    /// The array's items.
    pub fn items(&self) -> &[Value] {
        match self {
            Value::Array(v) => v,
            other => panic!("not an array: {other:?}"),
        }
    }
}

/// A blocking RESP client.
pub struct Client {
    out: TcpStream,
    input: BufReader<TcpStream>,
}

impl Client {
    /// Connects to 127.0.0.1:`port`.
    pub fn connect(port: u16) -> std::io::Result<Client> {
        let out = TcpStream::connect(("127.0.0.1", port))?;
        out.set_read_timeout(Some(Duration::from_secs(20)))?;
        Ok(Client { input: BufReader::new(out.try_clone()?), out })
    }

    /// Sends a command and reads its reply.
    pub fn cmd(&mut self, args: &[&str]) -> Value {
        let mut buf = format!("*{}\r\n", args.len());
        for a in args {
            buf.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        self.out.write_all(buf.as_bytes()).unwrap();
        self.read()
    }

    /// Reads one value (a reply, or a message on a subscribed connection).
    pub fn read(&mut self) -> Value {
        let mut line = String::new();
        self.input.read_line(&mut line).expect("redis replies");
        let line = line.trim_end_matches("\r\n");
        let (kind, rest) = line.split_at(1);
        match kind {
            "+" => Value::Simple(rest.into()),
            "-" => Value::Error(rest.into()),
            ":" => Value::Int(rest.parse().unwrap()),
            "$" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Value::Bulk(None);
                }
                let mut body = vec![0; n as usize + 2];
                self.input.read_exact(&mut body).unwrap();
                body.truncate(n as usize);
                Value::Bulk(Some(body))
            }
            "*" => {
                let n: i64 = rest.parse().unwrap();
                Value::Array((0..n.max(0)).map(|_| self.read()).collect())
            }
            _ => panic!("unknown reply {line:?}"),
        }
    }

    /// The list under `key`, first to last.
    pub fn list(&mut self, key: &str) -> Vec<String> {
        self.cmd(&["LRANGE", key, "0", "-1"]).items().iter().map(Value::text).collect()
    }

    /// The `eve` field of every entry of the stream under `key`, oldest first.
    pub fn stream(&mut self, key: &str) -> Vec<String> {
        let entries = self.cmd(&["XRANGE", key, "-", "+"]);
        entries
            .items()
            .iter()
            .map(|e| {
                let fields = e.items()[1].items();
                assert_eq!(fields[0].text(), "eve");
                fields[1].text()
            })
            .collect()
    }
}
