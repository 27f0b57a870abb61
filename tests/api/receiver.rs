//! Local stand-ins for message providers: a webhook receiver (a real HTTP server on
//! loopback that records what it is sent and can answer with errors on demand) and a
//! minimal SMTP sink. Nothing leaves the machine.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[derive(Default)]
struct Inbox {
    /// Bodies of the deliveries answered 200, in arrival order (repeats included).
    delivered: Vec<Value>,
    /// (Idempotency-Key, status answered) of every attempt.
    attempts: Vec<(String, u16)>,
    /// Statuses to answer the next attempts with, before answering 200 again.
    fail_with: VecDeque<u16>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inbox: Arc<Mutex<Inbox>>,
}

async fn receive(inbox: web::Data<Arc<Mutex<Inbox>>>, request: HttpRequest, body: web::Json<Value>) -> HttpResponse {
    let key = request
        .headers()
        .get("Idempotency-Key")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut inbox = inbox.lock().unwrap();
    if let Some(status) = inbox.fail_with.pop_front() {
        inbox.attempts.push((key, status));
        return HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish();
    }
    inbox.attempts.push((key, 200));
    inbox.delivered.push(body.into_inner());
    HttpResponse::Ok().finish()
}

impl Receiver {
    /// Starts the receiver on a free loopback port, in its own thread and actix system.
    pub fn start() -> Receiver {
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let data = web::Data::new(inbox.clone());
        let (sender, ports) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .route("/hook", web::post().to(receive))
                })
                .workers(1)
                .bind("127.0.0.1:0")
                .unwrap();
                sender.send(server.addrs()[0].port()).unwrap();
                server.run().await.unwrap();
            })
        });
        let port = ports.recv().unwrap();
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            inbox,
        }
    }

    /// Settings that send both channels to this receiver, retrying quickly.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("REWARDS__COMMUNICATIONS__EMAIL_PROVIDER", "webhook".into()),
            ("REWARDS__COMMUNICATIONS__SMS_PROVIDER", "webhook".into()),
            ("REWARDS__COMMUNICATIONS__WEBHOOK_URL", self.url.clone()),
            ("REWARDS__COMMUNICATIONS__RETRY_BASE_MS", "20".into()),
            ("REWARDS__COMMUNICATIONS__RETRY_MAX_MS", "100".into()),
        ]
    }

    /// Answers the next attempts with these statuses.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.inbox.lock().unwrap().fail_with.extend(statuses);
    }

    /// Answers 200 again from now on.
    pub fn recover(&self) {
        self.inbox.lock().unwrap().fail_with.clear();
    }

    pub fn delivered(&self) -> Vec<Value> {
        self.inbox.lock().unwrap().delivered.clone()
    }

    pub fn attempts(&self) -> Vec<(String, u16)> {
        self.inbox.lock().unwrap().attempts.clone()
    }

    /// Waits (up to 10 s) until `count` deliveries have arrived; returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let delivered = self.delivered();
            if delivered.len() >= count {
                return delivered;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {count} messages, got {}: {delivered:?}",
                delivered.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits for the next delivery after the `seen` already read.
    pub async fn next(&self, seen: &mut usize) -> Value {
        let message = self.wait_for(*seen + 1).await[*seen].clone();
        *seen += 1;
        message
    }
}

/// The six-digit code in a message's body.
pub fn code_in(message: &Value) -> String {
    message["body"]
        .as_str()
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 6)
        .unwrap_or_else(|| panic!("no code in {message}"))
        .to_string()
}

/// The `token=` of the link in a message's body.
pub fn link_token_in(message: &Value) -> String {
    let body = message["body"].as_str().unwrap();
    let start = body.find("token=").unwrap_or_else(|| panic!("no link in {body}")) + "token=".len();
    body[start..].split_whitespace().next().unwrap().to_string()
}

/// A minimal SMTP server: accepts every command and records each message's DATA.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    messages: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let store = messages.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let store = store.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 sink ESMTP\r\n").await.ok();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let command = line.to_ascii_uppercase();
                        let reply: &[u8] = if command.starts_with("EHLO") {
                            b"250-sink\r\n250 8BITMIME\r\n"
                        } else if command.starts_with("DATA") {
                            write.write_all(b"354 go ahead\r\n").await.ok();
                            let mut data = String::new();
                            while let Ok(Some(line)) = lines.next_line().await {
                                if line == "." {
                                    break;
                                }
                                data.push_str(&line);
                                data.push('\n');
                            }
                            store.lock().unwrap().push(data);
                            b"250 queued\r\n"
                        } else if command.starts_with("QUIT") {
                            write.write_all(b"221 bye\r\n").await.ok();
                            return;
                        } else {
                            b"250 ok\r\n"
                        };
                        write.write_all(reply).await.ok();
                    }
                });
            }
        });
        SmtpSink { port, messages }
    }

    /// Waits (up to 10 s) for `count` messages.
    pub async fn wait_for(&self, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let messages = self.messages.lock().unwrap().clone();
            if messages.len() >= count {
                return messages;
            }
            assert!(Instant::now() < deadline, "waited for {count} emails, got {messages:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
