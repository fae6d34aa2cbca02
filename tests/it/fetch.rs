//! The fetch step against a real HTTP server on 127.0.0.1: conditional
//! requests, the size limit, and the ingest rules for what it downloads.

use crate::support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::support::{Project, staff_rows, write_xlsx};

#[derive(Default)]
struct Site {
    body: Vec<u8>,
    etag: String,
    requests: Vec<String>,
}

/// Serves `site.body` with its ETag, and 304 when the client already has it.
fn serve(site: Arc<Mutex<Site>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(50) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                request.push_str(&line);
            }
            let mut site = site.lock().expect("lock");
            site.requests.push(request.clone());
            let asked = request.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("if-none-match:")
                    .map(|v| v.trim().to_string())
            });
            let response = if asked.as_deref() == Some(site.etag.to_ascii_lowercase().as_str()) {
                b"HTTP/1.1 304 Not Modified\r\nconnection: close\r\n\r\n".to_vec()
            } else {
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\netag: {}\r\ncontent-type: application/octet-stream\r\nconnection: close\r\n\r\n",
                    site.body.len(),
                    site.etag
                )
                .into_bytes();
                r.extend_from_slice(&site.body);
                r
            };
            let _ = stream.write_all(&response);
        }
    });
    port
}

#[test]
fn published_workbooks_are_fetched_once_and_ingested() {
    let scratch = tempfile::tempdir().expect("tmp");
    let book = scratch.path().join("ds_2025.xlsx");
    write_xlsx(
        &book,
        "DS",
        &staff_rows(
            "NĂM 2025",
            &[("Lò Văn Pọm", "1", "Đại học"), ("Quàng Thị Ả", "2", "")],
        ),
    );
    let site = Arc::new(Mutex::new(Site {
        body: std::fs::read(&book).expect("read"),
        etag: "\"v1\"".into(),
        requests: Vec::new(),
    }));
    let port = serve(Arc::clone(&site));
    let project = Project::with_config_extra(&format!(
        "[[source]]\ndepartment = \"SYT\"\nurl = \"http://127.0.0.1:{port}/bao-cao/ds_2025.xlsx\"\n"
    ));
    std::fs::write(
        project.root().join("jobs/pull.toml"),
        "schedule = \"0 0 * * * *\"\nsteps = [\"fetch\", \"ingest\"]\n",
    )
    .expect("job");

    let out = project.run_ok(&["run", "pull"]);
    assert!(out.contains("files accepted 1"), "{out}");
    assert_eq!(
        project
            .files_under(&project.data().join("archive"), "xlsx")
            .len(),
        1
    );

    // Unchanged: a conditional request, answered 304, and nothing new.
    let out = project.run_ok(&["run", "pull"]);
    assert!(
        out.contains("files accepted 0") && out.contains("already ingested 0"),
        "{out}"
    );
    let second = site.lock().expect("lock").requests[1].to_ascii_lowercase();
    assert!(second.contains("if-none-match: \"v1\""), "{second}");

    // A new version is fetched and supersedes the first.
    write_xlsx(
        &book,
        "DS",
        &staff_rows("NĂM 2025", &[("Lò Văn Pọm", "1", "Thạc sĩ")]),
    );
    {
        let mut site = site.lock().expect("lock");
        site.body = std::fs::read(&book).expect("read");
        site.etag = "\"v2\"".into();
    }
    let out = project.run_ok(&["run", "pull"]);
    assert!(out.contains("files accepted 1"), "{out}");
    let staff = support::duckdb(&format!(
        "SELECT count(*) FROM read_parquet('{}/staff/**/*.parquet', hive_partitioning = true)",
        project.warehouse().display()
    ));
    assert_eq!(staff, "1");
}

#[test]
fn a_download_over_the_size_limit_is_not_written_and_the_run_goes_on() {
    let site = Arc::new(Mutex::new(Site {
        body: vec![b'x'; 2 * 1024 * 1024],
        etag: "\"big\"".into(),
        requests: Vec::new(),
    }));
    let port = serve(Arc::clone(&site));
    let closed = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let project = Project::with_config_extra(&format!(
        "[[source]]\ndepartment = \"SYT\"\nurl = \"http://127.0.0.1:{port}/big.xlsx\"\n[[source]]\ndepartment = \"SNV\"\nurl = \"http://127.0.0.1:{closed}/gone.xlsx\"\n"
    ));
    std::fs::write(
        project.root().join("config/nhanluc.toml"),
        std::fs::read_to_string(project.config_file())
            .expect("config")
            .replace("settle_seconds = 0", "settle_seconds = 0\nmax_file_mib = 1"),
    )
    .expect("config");
    std::fs::write(
        project.root().join("jobs/pull.toml"),
        "schedule = \"0 0 * * * *\"\nsteps = [\"fetch\", \"ingest\"]\n",
    )
    .expect("job");
    let out = project.run(&["run", "pull"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("larger than the 1 MiB limit"), "{stderr}");
    assert!(stderr.contains("gone.xlsx"), "{stderr}");
    let mut written = 0;
    support::walk(&project.inbox(), &mut |_| written += 1);
    assert_eq!(written, 0, "nothing partial is left in the inbox");
}
