//! The WeChat simulator runs only when asked for (`--simulator`), and then
//! on loopback only unless `--simulator-public` says otherwise: a server
//! without WeChat credentials must not quietly let anyone sign in as anyone.
#![cfg(feature = "server")]

mod server;

use miniauth::server::clock::SystemClock;
use miniauth::server::config::Config;
use server::TempDir;
use std::net::SocketAddr;
use std::sync::Arc;

async fn refusal(adjust: impl FnOnce(&mut Config)) -> String {
    let dir = TempDir::new("modes");
    let mut config = Config::for_tests(dir.path().join("miniauth.db"));
    adjust(&mut config);
    match miniauth::server::start(&config, Arc::new(SystemClock)).await {
        Ok(_) => panic!("the server started"),
        Err(error) => error.to_string(),
    }
}

#[tokio::test]
async fn without_credentials_or_the_flag_the_server_does_not_start() {
    let error = refusal(|c| c.simulator = false).await;
    assert!(error.contains("WECHAT_APPID") && error.contains("--simulator"), "{error}");
}

#[tokio::test]
async fn empty_wechat_credentials_are_refused() {
    for (appid, secret) in [("", "real-secret"), ("wx_real", " ")] {
        let error = refusal(|c| {
            c.simulator = false;
            c.wechat_appid = Some(appid.into());
            c.wechat_secret = Some(secret.into());
        })
        .await;
        assert!(error.contains("must not be empty"), "{error}");
    }
}

#[tokio::test]
async fn douyin_credentials_must_be_whole_and_not_empty() {
    let real = |c: &mut Config| {
        c.simulator = false;
        c.wechat_appid = Some("wx_real".into());
        c.wechat_secret = Some("real-secret".into());
    };
    for (appid, secret) in [("", "douyin-secret"), ("tt_real", " ")] {
        let error = refusal(|c| {
            real(c);
            c.douyin_appid = Some(appid.into());
            c.douyin_secret = Some(secret.into());
        })
        .await;
        assert!(error.contains("DOUYIN_APPID and DOUYIN_SECRET must not be empty"), "{error}");
    }
    let error = refusal(|c| {
        real(c);
        c.douyin_appid = Some("tt_real".into());
    })
    .await;
    assert!(error.contains("set both or neither"), "{error}");
    // The simulator simulates Douyin itself.
    let error = refusal(|c| {
        c.douyin_appid = Some("tt_real".into());
        c.douyin_secret = Some("douyin-secret".into());
    })
    .await;
    assert!(error.contains("--simulator") && error.contains("DOUYIN_APPID"), "{error}");
}

#[tokio::test]
async fn the_simulator_refuses_a_public_address_unless_told() {
    // Refused before binding, so nothing listens on 0.0.0.0 even briefly.
    let error = refusal(|c| c.listen = SocketAddr::from(([0, 0, 0, 0], 0))).await;
    assert!(error.contains("--simulator-public"), "{error}");
}

#[tokio::test]
async fn the_simulator_and_wechat_credentials_exclude_each_other() {
    let error = refusal(|c| {
        c.wechat_appid = Some("wx_real".into());
        c.wechat_secret = Some("real-secret".into());
    })
    .await;
    assert!(error.contains("--simulator"), "{error}");
}

#[tokio::test]
async fn the_flags_parse_from_the_command_line() {
    use clap::{Args, FromArgMatches};
    // The environment is left out, as Config::for_tests leaves it out.
    let parse = |args: &[&str]| {
        let command = Config::augment_args(clap::Command::new("serve")).mut_args(|arg| arg.env(None));
        let matches = command.try_get_matches_from(std::iter::once("serve").chain(args.iter().copied()))?;
        Config::from_arg_matches(&matches)
    };
    assert!(parse(&["--simulator"]).unwrap().simulator);
    assert!(!parse(&[]).unwrap().simulator, "off by default");
    assert!(parse(&["--simulator-public"]).is_err(), "--simulator-public needs --simulator");
    assert!(parse(&["--simulator", "--wechat-appid", "wx", "--wechat-secret", "s"]).is_err());
    let douyin = ["--wechat-appid", "wx", "--wechat-secret", "s", "--douyin-appid", "tt", "--douyin-secret", "d"];
    let config = parse(&douyin).unwrap();
    assert_eq!((config.douyin_appid.as_deref(), config.douyin_secret.as_deref()), (Some("tt"), Some("d")));
    assert_eq!(config.douyin_api, "https://developer.toutiao.com");
    assert_eq!(
        parse(&[&douyin[..], &["--douyin-api", "http://127.0.0.1:9"]].concat()).unwrap().douyin_api,
        "http://127.0.0.1:9"
    );
    assert!(parse(&douyin[..6]).is_err(), "--douyin-appid needs --douyin-secret");
    assert!(parse(&["--douyin-secret", "d"]).is_err(), "--douyin-secret needs --douyin-appid");
    assert!(parse(&["--simulator", "--douyin-appid", "tt", "--douyin-secret", "d"]).is_err());
    assert_eq!(parse(&["--simulator"]).unwrap().douyin_appid, None, "the simulator's Douyin needs no flag");
}
