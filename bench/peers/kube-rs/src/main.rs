//! Sync benchmark peer: kube-rs's `watcher` over ConfigMaps in one namespace.
//! Usage: kube-rs-peer <namespace> <objects> <updates>; KUBECONFIG names the cluster.
//! Prints `ready`, then `synced <n>` when the initial state is complete, then `done <n>`
//! after <updates> modifications, then waits for stdin to close.
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client};
use std::io::Write;
use tokio::io::AsyncReadExt;

fn say(line: String) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (ns, objects, updates): (&str, usize, usize) = (&args[1], args[2].parse()?, args[3].parse()?);
    let client = Client::try_default().await?;
    let api: Api<ConfigMap> = Api::namespaced(client, ns);
    say("ready".into());
    let mut stream = watcher::watcher(api, watcher::Config::default()).boxed();
    let (mut listed, mut synced, mut modified) = (0usize, false, 0usize);
    let mut names = 0usize;
    while let Some(event) = stream.try_next().await? {
        match event {
            Event::Init => {}
            Event::InitApply(cm) => {
                listed += 1;
                names += cm.metadata.name.is_some() as usize;
            }
            Event::InitDone => {
                if !synced {
                    synced = true;
                    say(format!("synced {listed}"));
                    if listed != objects {
                        eprintln!("expected {objects} objects, got {listed}");
                    }
                }
            }
            Event::Apply(cm) => {
                names += cm.metadata.name.is_some() as usize;
                modified += 1;
                if modified == updates {
                    break;
                }
            }
            Event::Delete(_) => {}
        }
    }
    say(format!("done {modified} {names}"));
    let mut sink = Vec::new();
    tokio::io::stdin().read_to_end(&mut sink).await?;
    Ok(())
}
