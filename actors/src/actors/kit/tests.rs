//! A third actor kind, a toy counter, built on the kit with no lifecycle code of its own:
//! it gets recovery, idle retirement with final writes, bounded mailboxes, retries after
//! retirement, reloads after a panic, the live bound and shutdown from the kit alone.

use super::*;
use crate::storage::StoreSettings;
use parking_lot::{Condvar, Mutex};
use std::rc::Rc;

#[derive(Debug, Clone, PartialEq, Eq)]
enum ToyError {
    Retry,
    Faulted,
    Storage(String),
}

impl Faulted for ToyError {
    fn faulted() -> Self {
        ToyError::Faulted
    }
}

impl From<StorageFailure> for ToyError {
    fn from(failure: StorageFailure) -> Self {
        ToyError::Storage(failure.0)
    }
}

impl KitError for ToyError {
    fn retry() -> Self {
        ToyError::Retry
    }

    fn is_retry(&self) -> bool {
        *self == ToyError::Retry
    }
}

type ToyReply = Reply<u64, ToyError>;

/// Holds the actor's thread in a command until opened.
#[derive(Default)]
struct Gate {
    entered: AtomicBool,
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn wait(&self) {
        self.entered.store(true, Ordering::Release);
        let mut open = self.open.lock();
        while !*open {
            self.opened.wait(&mut open);
        }
    }

    fn open(&self) {
        *self.open.lock() = true;
        self.opened.notify_all();
    }
}

enum ToyCommand {
    Add(u64, ToyReply),
    Get(ToyReply),
    /// Adds in memory, then panics before anything is committed.
    AddThenPanic(u64, ToyReply),
    Hold(Arc<Gate>, ToyReply),
}

#[derive(Clone, Default)]
struct ToyDeps {
    recoveries: Arc<AtomicU64>,
}

struct Toy {
    value: u64,
}

fn value_name(key: &u32) -> String {
    format!("toy-{key}")
}

fn retired_name(key: &u32) -> String {
    format!("toy-retired-{key}")
}

fn read(store: &Store, name: &str) -> Result<Option<u64>, StoreError> {
    Ok(store
        .meta(name)?
        .map(|bytes| u64::from_le_bytes(bytes.try_into().expect("8 bytes"))))
}

impl Entity for Toy {
    type Key = u32;
    type Command = ToyCommand;
    type Deps = ToyDeps;
    const KIND: &'static str = "toy";

    fn recover(key: &u32, store: &Store, deps: &ToyDeps) -> Result<Option<Self>, StoreError> {
        deps.recoveries.fetch_add(1, Ordering::AcqRel);
        Ok(Some(Toy {
            value: read(store, &value_name(key))?.unwrap_or(0),
        }))
    }

    fn handle(&mut self, command: ToyCommand, life: &mut Life<Self>) {
        match command {
            ToyCommand::Add(n, reply) => {
                self.value += n;
                let mut writes = WriteSet::default();
                writes.meta(&value_name(life.key()), &self.value.to_le_bytes());
                life.commit_then_reply(writes, reply, self.value);
            }
            ToyCommand::Get(reply) => life.answer_after_durable(reply, Ok(self.value)),
            ToyCommand::AddThenPanic(n, _reply) => {
                self.value += n;
                panic!("the toy panics on purpose");
            }
            ToyCommand::Hold(gate, reply) => {
                gate.wait();
                let _ = reply.send(Ok(self.value));
            }
        }
    }

    fn refuse(command: ToyCommand) {
        match command {
            ToyCommand::Add(_, reply)
            | ToyCommand::Get(reply)
            | ToyCommand::AddThenPanic(_, reply)
            | ToyCommand::Hold(_, reply) => {
                let _ = reply.send(Err(ToyError::Retry));
            }
        }
    }

    fn reload(&mut self, life: &Life<Self>) -> Result<(), String> {
        self.value = read(life.store(), &value_name(life.key()))
            .map_err(|error| error.to_string())?
            .unwrap_or(0);
        Ok(())
    }

    fn on_retire(&mut self, life: &Life<Self>) -> WriteSet {
        let mut writes = WriteSet::default();
        writes.meta(&retired_name(life.key()), &self.value.to_le_bytes());
        writes
    }
}

fn settings(idle_ms: u64, mailbox_len_max: usize, live_max: usize) -> ActorSettings {
    ActorSettings {
        idle_ms,
        mailbox_len_max,
        snapshot_every_events: 1_000,
        live_max,
        ..Default::default()
    }
}

/// Runs `test` in an actix system with a toy kind on one arbiter over a fresh store.
fn with_toys<F, Fut>(settings: ActorSettings, test: F)
where
    F: FnOnce(Rc<Kind<Toy>>, Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::TempDir::new().unwrap();
    actix_rt::System::new().block_on(async {
        let store = Store::open(dir.path(), &StoreSettings::small()).unwrap();
        let arbiter = Arbiter::new();
        let kind = Rc::new(Kind::new(
            vec![arbiter.handle()],
            store.clone(),
            settings,
            ToyDeps::default(),
        ));
        test(kind, store.clone()).await;
        store.shutdown();
        arbiter.stop();
    });
}

/// Waits up to five seconds for `condition`, failing the test with `what` if it never holds.
async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        actix_rt::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn add(kind: &Kind<Toy>, key: u32, n: u64) -> Result<u64, AskError<ToyError>> {
    kind.ask(&key, |reply| ToyCommand::Add(n, reply)).await
}

async fn get(kind: &Kind<Toy>, key: u32) -> u64 {
    kind.ask(&key, ToyCommand::Get).await.expect("a read")
}

fn recoveries(kind: &Kind<Toy>) -> u64 {
    kind.deps().recoveries.load(Ordering::Acquire)
}

#[test]
fn an_idle_toy_retires_with_its_final_writes_and_recovers_from_the_store() {
    with_toys(settings(50, 16, 0), |kind, store| async move {
        assert_eq!(add(&kind, 1, 5).await.unwrap(), 5);
        assert_eq!(add(&kind, 1, 7).await.unwrap(), 12);
        assert_eq!((kind.live(), recoveries(&kind)), (1, 1));
        eventually("the idle toy retired", || kind.live() == 0).await;
        store.commit_and_wait(WriteSet::default()).unwrap();
        assert_eq!(read(&store, &retired_name(&1)).unwrap(), Some(12), "on_retire's writes");
        assert_eq!(get(&kind, 1).await, 12, "recovered from the store");
        assert_eq!(recoveries(&kind), 2);
    });
}

#[test]
fn a_full_mailbox_refuses_and_the_waiting_commands_apply_in_order() {
    with_toys(settings(600_000, 2, 0), |kind, _store| async move {
        let gate = Arc::new(Gate::default());
        let held = {
            let (kind, gate) = (kind.clone(), gate.clone());
            actix_rt::spawn(async move { kind.ask(&1, |reply| ToyCommand::Hold(gate.clone(), reply)).await })
        };
        eventually("the actor holds", || gate.entered.load(Ordering::Acquire)).await;
        let waiting: Vec<_> = (1..=2)
            .map(|n| {
                let kind = kind.clone();
                actix_rt::spawn(async move { add(&kind, 1, n).await })
            })
            .collect();
        let queued = kind.actor(&1).unwrap().unwrap().queued;
        eventually("two commands wait", || queued.waiting() == 2).await;
        assert!(
            matches!(add(&kind, 1, 100).await, Err(AskError::Busy)),
            "a third is refused"
        );
        gate.open();
        assert_eq!(held.await.unwrap().unwrap(), 0);
        let mut answers = Vec::new();
        for waiting in waiting {
            answers.push(waiting.await.unwrap().unwrap());
        }
        assert_eq!(
            answers,
            vec![1, 3],
            "applied in the order sent; the refused one not at all"
        );
        assert_eq!(get(&kind, 1).await, 3);
    });
}

#[test]
fn a_panic_answers_faulted_and_the_toy_goes_on_from_its_durable_state() {
    with_toys(settings(600_000, 16, 0), |kind, _store| async move {
        assert_eq!(add(&kind, 1, 3).await.unwrap(), 3);
        let panicked = kind.ask(&1, |reply| ToyCommand::AddThenPanic(100, reply)).await;
        assert!(
            matches!(panicked, Err(AskError::Refused(ToyError::Faulted))),
            "{panicked:?}"
        );
        assert_eq!(get(&kind, 1).await, 3, "the half-applied command was thrown away");
        assert_eq!(add(&kind, 1, 1).await.unwrap(), 4);
        assert_eq!(kind.live(), 1, "the same actor goes on");
    });
}

#[test]
fn a_command_meeting_a_retiring_toy_goes_to_a_fresh_one() {
    with_toys(settings(600_000, 16, 0), |kind, _store| async move {
        assert_eq!(add(&kind, 1, 2).await.unwrap(), 2);
        for round in 0..20u64 {
            let actor = kind.actor(&1).unwrap().unwrap();
            // A stop is queued ahead of the command, which then meets a retired actor (or
            // a closed mailbox) and is sent again to a fresh one.
            let (stopped, _) = oneshot::channel();
            actor.addr.do_send(Envelope::Shutdown { reply: stopped });
            assert_eq!(add(&kind, 1, 1).await.unwrap(), 3 + round);
        }
        assert_eq!(recoveries(&kind), 21, "each command found a fresh actor");
    });
}

#[test]
fn the_live_bound_retires_the_least_recently_used_toys() {
    with_toys(settings(600_000, 16, 2), |kind, _store| async move {
        for key in 1..=8 {
            add(&kind, key, u64::from(key)).await.unwrap();
        }
        eventually("the live toys came back near the bound", || kind.live() <= 3).await;
        for key in 1..=8 {
            assert_eq!(get(&kind, key).await, u64::from(key), "toy {key} recovered");
        }
    });
}

#[test]
fn shutdown_waits_for_every_toys_final_writes() {
    with_toys(settings(600_000, 16, 0), |kind, store| async move {
        for key in 1..=3 {
            add(&kind, key, 10 + u64::from(key)).await.unwrap();
        }
        for done in kind.shut_down() {
            done.await.unwrap();
        }
        for key in 1..=3 {
            assert_eq!(read(&store, &retired_name(&key)).unwrap(), Some(10 + u64::from(key)));
        }
        eventually("every toy stopped", || kind.live() == 0).await;
    });
}
