//! Reconcile benchmark peer: kube-rs's `Controller` over ConfigMaps in one namespace, concurrency 4.
//! Usage: kwatch-bench-kube-rs-reconcile <namespace> <objects> <updates>; KUBECONFIG names the cluster.
//! The reconcile makes no API call: it gets the object from the controller's store and records
//! now − data.t for objects whose `t` is set. Prints `ready`, `synced <n>` once every listed object
//! was reconciled, then `done <reconciles> <p50ms> <p99ms>` once all <updates> updated objects were
//! reconciled with their `t`, then runs on until stdin closes (as the controller-runtime peer does).
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt};
use std::collections::HashSet;
use std::convert::Infallible;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::AsyncReadExt;

fn say(line: String) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
}

struct State {
    objects: usize,
    updates: usize,
    seen: HashSet<String>,
    updated: HashSet<String>,
    latencies: Vec<i64>,
    reconciles: u64,
    synced: bool,
    done: bool,
}

async fn reconcile(cm: Arc<ConfigMap>, state: Arc<Mutex<State>>) -> Result<Action, Infallible> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    let mut s = state.lock().unwrap();
    s.reconciles += 1;
    let key = cm.name_any();
    if !s.synced {
        s.seen.insert(key.clone());
        if s.seen.len() == s.objects {
            s.synced = true;
            say(format!("synced {}", s.seen.len()));
        }
    }
    let Some(t) = cm.data.as_ref().and_then(|d| d.get("t")) else {
        return Ok(Action::await_change());
    };
    s.latencies.push(now - t.parse::<i64>().unwrap_or(now));
    s.updated.insert(key);
    if !s.done && s.updated.len() == s.updates {
        s.done = true;
        s.latencies.sort_unstable();
        let p = |q: f64| s.latencies[((q * s.latencies.len() as f64) as usize).min(s.latencies.len() - 1)];
        say(format!("done {} {} {}", s.reconciles, p(0.5), p(0.99)));
    }
    Ok(Action::await_change())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (ns, objects, updates): (&str, usize, usize) = (&args[1], args[2].parse()?, args[3].parse()?);
    let client = Client::try_default().await?;
    let api: Api<ConfigMap> = Api::namespaced(client, ns);
    let state = Arc::new(Mutex::new(State {
        objects,
        updates,
        seen: HashSet::new(),
        updated: HashSet::new(),
        latencies: Vec::new(),
        reconciles: 0,
        synced: false,
        done: false,
    }));
    let run = Controller::new(api, watcher::Config::default())
        .with_config(controller::Config::default().concurrency(4))
        .run(reconcile, |_, _: &Infallible, _| Action::await_change(), state)
        .for_each(|res| async move {
            if let Err(e) = res {
                eprintln!("controller: {e}");
            }
        });
    say("ready".into());
    let (mut stdin, mut sink) = (tokio::io::stdin(), Vec::new());
    tokio::select! {
        _ = run => {}
        r = stdin.read_to_end(&mut sink) => { r?; }
    }
    Ok(())
}
