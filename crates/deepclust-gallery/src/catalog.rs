//! The organizer's catalogue: one SQLite file in the output folder (`catalog.sqlite`, WAL
//! mode) that keeps what a run learned, so a re-run reads only what changed and a killed run
//! resumes where it stopped.
//!
//! | table | what |
//! |---|---|
//! | `photos` | one row per photo: path, size, mtime, content hash, EXIF time (with its source and offset), GPS, camera, orientation |
//! | `features` | the model-free statistics (f32 BLOB), the autoencoder's 28x28 pixels, the dHash, and which embedder made the signals |
//! | `signals` | a model's embedding (f32 BLOB) with the model's id and version, ImageNet tags, text signals |
//! | `faces` | each detected face: box, keypoints, 128-d descriptor (f32 BLOB), and its person in the latest run |
//! | `runs` | every run: parameters, seed, status (running, done, failed), timings, counts |
//! | `skipped` | files a run could not use, with the reason |
//! | `albums`, `memberships` | the groups of the latest run (kind, folder, name, why) and which photos are in them |
//! | `state` | the content model and the known persons, reused by the next run |
//! | `imported_clusters` | cluster ids computed elsewhere (`deepclust import-clusters`, e.g. Spark), by source |
//!
//! Photos are written in batches as the scan reads them, each batch in one transaction, so a
//! run killed at any point leaves a consistent catalogue and the next run decodes only the
//! photos not yet in it. The link tree and `manifest.json` are derived from each run's plan.
//! A lock file (`catalog.lock`, an OS lock released when the process dies, even by kill -9)
//! makes a second run on the same output refuse instead of interleaving with the first.
//! The schema carries its version (`PRAGMA user_version`); older files are migrated forward
//! in one transaction when opened.

use crate::civil::WallClock;
use crate::content::ContentModel;
use crate::error::GalleryError;
use crate::exif_meta::{GpsPoint, TimeSource};
use crate::outcome::OrganizeReport;
use crate::people::KnownPerson;
use crate::scan::{PhotoRecord, SkippedFile};
use crate::sniff::ImageKind;
use crate::thumbs::ContentFeatures;
use deepclust_embed::{Face, FaceSignals, PhotoSignals, Tag, TextSignals};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The catalogue's file name in the output folder.
pub const CATALOG_FILE: &str = "catalog.sqlite";
/// The lock file beside it.
pub const LOCK_FILE: &str = "catalog.lock";

/// Each entry brings a catalogue of the previous version to the next; the schema version of
/// a file is the number of entries applied to it.
const MIGRATIONS: &[&str] = &[
    // 1: the first catalogue.
    "CREATE TABLE photos (
        id INTEGER PRIMARY KEY,
        rel_path TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        mtime_secs INTEGER NOT NULL,
        mtime_nanos INTEGER NOT NULL,
        content_hash INTEGER NOT NULL,
        kind TEXT NOT NULL,
        taken TEXT NOT NULL,
        utc_offset_minutes INTEGER,
        time_source TEXT NOT NULL,
        lat REAL,
        lon REAL,
        orientation INTEGER NOT NULL,
        camera TEXT,
        thumb_width INTEGER NOT NULL,
        thumb_height INTEGER NOT NULL,
        notes TEXT NOT NULL,
        first_run INTEGER
     );
     CREATE TABLE features (
        photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
        embedder TEXT NOT NULL,
        stats BLOB NOT NULL,
        pixels BLOB NOT NULL,
        dhash INTEGER NOT NULL
     );
     CREATE TABLE signals (
        photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        embedding BLOB NOT NULL,
        tags TEXT NOT NULL,
        text TEXT,
        face_image_width INTEGER,
        face_image_height INTEGER
     );
     CREATE TABLE faces (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        face INTEGER NOT NULL,
        score REAL NOT NULL,
        bbox TEXT NOT NULL,
        keypoints TEXT NOT NULL,
        descriptor BLOB,
        person INTEGER,
        PRIMARY KEY (photo_id, face)
     );
     CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started TEXT NOT NULL,
        finished TEXT,
        status TEXT NOT NULL,
        params TEXT NOT NULL,
        seed INTEGER NOT NULL,
        timings TEXT,
        counts TEXT
     );
     CREATE TABLE skipped (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        rel_path TEXT NOT NULL,
        reason TEXT NOT NULL
     );
     CREATE TABLE albums (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        folder TEXT NOT NULL,
        name TEXT NOT NULL,
        why TEXT NOT NULL,
        photos INTEGER NOT NULL,
        PRIMARY KEY (run_id, kind, folder)
     );
     CREATE TABLE memberships (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        folder TEXT NOT NULL,
        reason TEXT NOT NULL
     );
     CREATE INDEX memberships_by_photo ON memberships(photo_id);
     CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // 2: cluster ids computed elsewhere (Spark MLlib on the Parquet export), by source.
    "CREATE TABLE imported_clusters (
        source TEXT NOT NULL,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        cluster INTEGER NOT NULL,
        imported TEXT NOT NULL,
        PRIMARY KEY (source, photo_id)
     );",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The SQL that creates a catalogue of schema `version` (tests build older files with it).
pub fn schema_sql(version: u32) -> String {
    MIGRATIONS[..version as usize].join("\n")
}

/// An open catalogue.
pub struct Catalog {
    conn: Connection,
    path: PathBuf,
    /// Held for the life of a writing run; the OS drops it when the process dies.
    _lock: Option<File>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("path", &self.path).finish()
    }
}

fn db_err(path: &Path) -> impl Fn(rusqlite::Error) -> GalleryError + '_ {
    move |source| GalleryError::Catalog {
        path: path.to_path_buf(),
        source,
    }
}

/// The current UTC time, `YYYY-MM-DD HH:MM:SS`.
fn now_text() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    WallClock::from_unix_utc(d.as_secs() as i64).to_string()
}

/// `path` for a `file:` URI: every byte but the unreserved ones and `/` percent-encoded.
fn uri_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// f32 values as little-endian bytes.
fn f32_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f32_from_blob(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn json<T: serde::Serialize>(v: &T) -> String {
    // Serialising these plain records cannot fail; an empty string would read back as an
    // error, never as wrong data.
    serde_json::to_string(v).unwrap_or_default()
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("{what}: {e}").into(),
        )
    })
}

impl Catalog {
    /// The catalogue of `output` for a run that writes: takes the lock (refusing when another
    /// run holds it), creates the file or migrates an older one.
    pub fn open_for_run(output: &Path) -> Result<Catalog, GalleryError> {
        let lock_path = output.join(LOCK_FILE);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| GalleryError::io(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(GalleryError::Locked { path: lock_path })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(GalleryError::io(&lock_path, e)),
        }
        let path = output.join(CATALOG_FILE);
        let conn = Connection::open(&path).map_err(db_err(&path))?;
        let mut catalog = Catalog {
            conn,
            path,
            _lock: Some(lock),
        };
        catalog.configure()?;
        catalog.migrate()?;
        Ok(catalog)
    }

    /// An existing catalogue, read only (dry runs, exports); `None` when there is none. A
    /// catalogue of an older schema is read through a migrated in-memory copy, the file
    /// itself is left as it is.
    pub fn open_read_only(output: &Path) -> Result<Option<Catalog>, GalleryError> {
        let path = output.join(CATALOG_FILE);
        if !path.exists() {
            return Ok(None);
        }
        // Without a write-ahead log beside it (every cleanly closed catalogue), the file is
        // opened immutable: SQLite then creates no -wal/-shm files, and a dry run writes
        // nothing at all. A log left by a killed run holds committed work: read through it.
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let wal = output.join(format!("{CATALOG_FILE}-wal"));
        let conn = if wal.exists() {
            Connection::open_with_flags(&path, flags)
        } else {
            Connection::open_with_flags(
                format!("file:{}?immutable=1", uri_path(&path)),
                flags | OpenFlags::SQLITE_OPEN_URI,
            )
        }
        .map_err(db_err(&path))?;
        let mut catalog = Catalog {
            conn,
            path,
            _lock: None,
        };
        let version = catalog.schema_version()?;
        if version > SCHEMA_VERSION {
            return Err(catalog.too_new(version));
        }
        if version < SCHEMA_VERSION {
            let mut copy = Connection::open_in_memory().map_err(db_err(&catalog.path))?;
            {
                let backup = rusqlite::backup::Backup::new(&catalog.conn, &mut copy)
                    .map_err(db_err(&catalog.path))?;
                backup
                    .run_to_completion(256, Duration::ZERO, None)
                    .map_err(db_err(&catalog.path))?;
            }
            catalog.conn = copy;
            catalog.migrate()?;
        }
        Ok(Some(catalog))
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(&self) -> Result<(), GalleryError> {
        // WAL: readers never block the writer, and a killed writer leaves the last committed
        // state. NORMAL sync is durable at every checkpoint and safe against corruption.
        self.conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err(&self.path))?;
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_err(&self.path))?;
        self.conn
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(db_err(&self.path))?;
        self.conn
            .busy_timeout(Duration::from_secs(10))
            .map_err(db_err(&self.path))?;
        Ok(())
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<u32, GalleryError> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get::<_, u32>(0))
            .map_err(db_err(&self.path))
    }

    fn too_new(&self, version: u32) -> GalleryError {
        GalleryError::Path {
            path: self.path.clone(),
            problem: format!(
                "catalogue schema {version} is newer than this build reads ({SCHEMA_VERSION}): use a newer deepclust"
            ),
        }
    }

    /// Applies the migrations the file lacks, all in one transaction.
    fn migrate(&mut self) -> Result<(), GalleryError> {
        let version = self.schema_version()?;
        if version > SCHEMA_VERSION {
            return Err(self.too_new(version));
        }
        if version == SCHEMA_VERSION {
            return Ok(());
        }
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(db_err(&path))?;
        for sql in &MIGRATIONS[version as usize..] {
            tx.execute_batch(sql).map_err(db_err(&path))?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(db_err(&path))?;
        tx.commit().map_err(db_err(&path))
    }

    /// Every photo of the catalogue, by relative path, with its features and signals.
    pub fn photos(&self) -> Result<HashMap<String, PhotoRecord>, GalleryError> {
        let err = db_err(&self.path);
        let mut faces: HashMap<i64, Vec<Face>> = HashMap::new();
        {
            let mut st = self
                .conn
                .prepare(
                    "SELECT photo_id, score, bbox, keypoints, descriptor FROM faces ORDER BY photo_id, face",
                )
                .map_err(&err)?;
            let rows = st
                .query_map([], |r| {
                    let id: i64 = r.get(0)?;
                    let descriptor: Option<Vec<u8>> = r.get(4)?;
                    Ok((
                        id,
                        Face {
                            score: r.get(1)?,
                            bbox: from_json(&r.get::<_, String>(2)?, "face box")?,
                            keypoints: from_json(&r.get::<_, String>(3)?, "face keypoints")?,
                            descriptor: descriptor.map(|b| f32_from_blob(&b)),
                        },
                    ))
                })
                .map_err(&err)?;
            for row in rows {
                let (id, face) = row.map_err(&err)?;
                faces.entry(id).or_default().push(face);
            }
        }
        let mut st = self
            .conn
            .prepare(
                "SELECT p.id, p.rel_path, p.size, p.mtime_secs, p.mtime_nanos, p.content_hash, p.kind,
                        p.taken, p.time_source, p.lat, p.lon, p.orientation, p.camera,
                        p.thumb_width, p.thumb_height, p.notes,
                        f.embedder, f.stats, f.pixels, f.dhash,
                        s.model, s.embedding, s.tags, s.text, s.face_image_width, s.face_image_height
                 FROM photos p LEFT JOIN features f ON f.photo_id = p.id
                 LEFT JOIN signals s ON s.photo_id = p.id",
            )
            .map_err(&err)?;
        let rows = st
            .query_map([], |r| {
                let id: i64 = r.get(0)?;
                let lat: Option<f64> = r.get(9)?;
                let lon: Option<f64> = r.get(10)?;
                let embedder: Option<String> = r.get(16)?;
                let model: Option<String> = r.get(20)?;
                let signals = match model {
                    Some(_) => {
                        let width: Option<u32> = r.get(24)?;
                        let height: Option<u32> = r.get(25)?;
                        let text: Option<String> = r.get(23)?;
                        Some(PhotoSignals {
                            embedding: f32_from_blob(&r.get::<_, Vec<u8>>(21)?),
                            tags: from_json::<Vec<Tag>>(&r.get::<_, String>(22)?, "tags")?,
                            text: text
                                .map(|t| from_json::<TextSignals>(&t, "text signals"))
                                .transpose()?,
                            faces: match (width, height) {
                                (Some(width), Some(height)) => Some(FaceSignals {
                                    width,
                                    height,
                                    faces: faces.remove(&id).unwrap_or_default(),
                                }),
                                _ => None,
                            },
                        })
                    }
                    None => None,
                };
                let content = match embedder {
                    Some(embedder) => Some(ContentFeatures {
                        embedding: f32_from_blob(&r.get::<_, Vec<u8>>(17)?),
                        signals,
                        embedder,
                        dhash: r.get::<_, i64>(19)? as u64,
                        pixels: r.get(18)?,
                    }),
                    None => None,
                };
                Ok(PhotoRecord {
                    rel_path: r.get(1)?,
                    size: r.get::<_, i64>(2)? as u64,
                    mtime_secs: r.get(3)?,
                    mtime_nanos: r.get(4)?,
                    content_hash: r.get::<_, i64>(5)? as u64,
                    kind: from_json::<ImageKind>(&r.get::<_, String>(6)?, "kind")?,
                    taken: from_json::<WallClock>(&r.get::<_, String>(7)?, "taken")?,
                    time_source: from_json::<TimeSource>(&r.get::<_, String>(8)?, "time source")?,
                    gps: match (lat, lon) {
                        (Some(lat), Some(lon)) => Some(GpsPoint { lat, lon }),
                        _ => None,
                    },
                    orientation: r.get(11)?,
                    camera: r.get(12)?,
                    thumb_width: r.get(13)?,
                    thumb_height: r.get(14)?,
                    notes: from_json(&r.get::<_, String>(15)?, "notes")?,
                    content,
                })
            })
            .map_err(&err)?;
        let mut out = HashMap::new();
        for row in rows {
            let record = row.map_err(&err)?;
            out.insert(record.rel_path.clone(), record);
        }
        Ok(out)
    }

    /// Number of photos in the catalogue.
    pub fn photo_count(&self) -> Result<usize, GalleryError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM photos", [], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(db_err(&self.path))
    }

    /// Inserts or replaces `records` (and their features, signals, faces) in one transaction.
    pub fn put_photos(
        &mut self,
        records: &[PhotoRecord],
        run: Option<i64>,
    ) -> Result<(), GalleryError> {
        if records.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(db_err(&path))?;
        for record in records {
            put_photo(&tx, record, run).map_err(db_err(&path))?;
        }
        tx.commit().map_err(db_err(&path))
    }

    /// Moves an old JSON cache's photos, content model and persons in, in one transaction.
    pub fn migrate_cache(
        &mut self,
        photos: &[PhotoRecord],
        model: Option<&ContentModel>,
        people: &[KnownPerson],
    ) -> Result<(), GalleryError> {
        let path = self.path.clone();
        let err = db_err(&path);
        let tx = self.conn.transaction().map_err(&err)?;
        for record in photos {
            put_photo(&tx, record, None).map_err(&err)?;
        }
        if let Some(m) = model {
            put_state(&tx, "content_model", &json(m)).map_err(&err)?;
        }
        put_state(&tx, "people", &json(&people)).map_err(&err)?;
        tx.commit().map_err(&err)
    }

    /// A value of the `state` table.
    fn state<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, GalleryError> {
        let err = db_err(&self.path);
        let text: Option<String> = self
            .conn
            .query_row("SELECT value FROM state WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(&err)?;
        text.map(|t| from_json(&t, key).map_err(&err)).transpose()
    }

    /// The content model of the latest run that fitted one.
    pub fn content_model(&self) -> Result<Option<ContentModel>, GalleryError> {
        self.state("content_model")
    }

    /// The persons of the latest run that looked for them.
    pub fn people(&self) -> Result<Vec<KnownPerson>, GalleryError> {
        Ok(self.state("people")?.unwrap_or_default())
    }

    /// Records the start of a run; returns its id. Runs still marked running were killed
    /// (this one holds the lock): they are marked `interrupted`.
    pub fn begin_run(&mut self, params: &str, seed: u64) -> Result<i64, GalleryError> {
        self.conn
            .execute(
                "UPDATE runs SET status = 'interrupted' WHERE status = 'running'",
                [],
            )
            .map_err(db_err(&self.path))?;
        self.conn
            .execute(
                "INSERT INTO runs (started, status, params, seed) VALUES (?1, 'running', ?2, ?3)",
                params![now_text(), params, seed as i64],
            )
            .map_err(db_err(&self.path))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records a run that stopped with an error (the photos it committed stay).
    pub fn fail_run(&mut self, run: i64, why: &str) -> Result<(), GalleryError> {
        self.conn
            .execute(
                "UPDATE runs SET finished = ?1, status = 'failed', counts = ?2 WHERE id = ?3",
                params![now_text(), json(&serde_json::json!({ "error": why })), run],
            )
            .map(|_| ())
            .map_err(db_err(&self.path))
    }

    /// Records a finished run in one transaction: its photos (those not already stored as
    /// they are), skipped files, groups and memberships (replacing the previous run's), the
    /// content model and persons for the next run, and its counts and timings.
    pub fn finish_run(
        &mut self,
        run: i64,
        report: &OrganizeReport,
        model: Option<&ContentModel>,
        timings: &[(&str, f64)],
    ) -> Result<(), GalleryError> {
        let path = self.path.clone();
        let err = db_err(&path);
        let tx = self.conn.transaction().map_err(&err)?;
        let mut ids: HashMap<String, i64> = HashMap::new();
        {
            let mut st = tx
                .prepare("SELECT rel_path, id FROM photos")
                .map_err(&err)?;
            let rows = st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(&err)?;
            for row in rows {
                let (p, id) = row.map_err(&err)?;
                ids.insert(p, id);
            }
        }
        for record in &report.photos {
            if !ids.contains_key(&record.rel_path) {
                let id = put_photo(&tx, record, Some(run)).map_err(&err)?;
                ids.insert(record.rel_path.clone(), id);
            }
        }
        tx.execute("DELETE FROM memberships", []).map_err(&err)?;
        tx.execute("DELETE FROM albums WHERE run_id < ?1", [run])
            .map_err(&err)?;
        {
            let mut member = tx
                .prepare(
                    "INSERT INTO memberships (run_id, photo_id, kind, folder, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(&err)?;
            let mut sizes: HashMap<(String, String), usize> = HashMap::new();
            for (photo, assignments) in report.photos.iter().zip(&report.assignments) {
                let Some(&id) = ids.get(&photo.rel_path) else {
                    continue;
                };
                for a in assignments {
                    let kind = a.kind.name();
                    member
                        .execute(params![run, id, kind, a.group, a.reason])
                        .map_err(&err)?;
                    *sizes
                        .entry((kind.to_string(), a.group.clone()))
                        .or_default() += 1;
                }
            }
            let mut album = tx
                .prepare(
                    "INSERT OR REPLACE INTO albums (run_id, kind, folder, name, why, photos) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(&err)?;
            let mut named: HashMap<String, (&str, &str)> = HashMap::new();
            if let Some(content) = &report.content {
                for c in &content.clusters {
                    named.insert(c.folder.clone(), (c.name.as_str(), c.why.as_str()));
                }
            }
            let mut keys: Vec<_> = sizes.into_iter().collect();
            keys.sort();
            for ((kind, folder), n) in keys {
                let (name, why) = if kind == "content" {
                    named.get(&folder).copied().unwrap_or((folder.as_str(), ""))
                } else {
                    (folder.as_str(), "")
                };
                album
                    .execute(params![run, kind, folder, name, why, n as i64])
                    .map_err(&err)?;
            }
            let mut skipped = tx
                .prepare("INSERT INTO skipped (run_id, rel_path, reason) VALUES (?1, ?2, ?3)")
                .map_err(&err)?;
            for SkippedFile { rel_path, reason } in &report.skipped {
                skipped
                    .execute(params![run, rel_path, reason])
                    .map_err(&err)?;
            }
        }
        if let Some(people) = &report.people {
            tx.execute("UPDATE faces SET person = NULL", [])
                .map_err(&err)?;
            let known: Vec<KnownPerson> = people
                .persons
                .iter()
                .map(|p| KnownPerson {
                    id: p.id,
                    centre: p.centre.clone(),
                })
                .collect();
            for person in &people.persons {
                for face in &person.faces {
                    if let Some(&id) = ids.get(&report.photos[face.photo].rel_path) {
                        tx.execute(
                            "UPDATE faces SET person = ?1 WHERE photo_id = ?2 AND face = ?3",
                            params![person.id, id, face.face as i64],
                        )
                        .map_err(&err)?;
                    }
                }
            }
            put_state(&tx, "people", &json(&known)).map_err(&err)?;
        }
        if let Some(m) = model {
            put_state(&tx, "content_model", &json(m)).map_err(&err)?;
        }
        let counts = serde_json::json!({
            "photos": report.photos.len(),
            "from_cache": report.from_cache,
            "skipped": report.skipped.len(),
            "other_files": report.other_files,
            "links": report.plan.links.len(),
            "albums": report.content.as_ref().map_or(0, |c| c.clusters.len()),
        });
        let timings: serde_json::Map<String, serde_json::Value> = timings
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).into()))
            .collect();
        tx.execute(
            "UPDATE runs SET finished = ?1, status = 'done', counts = ?2, timings = ?3 WHERE id = ?4",
            params![now_text(), json(&counts), json(&timings), run],
        )
        .map_err(&err)?;
        tx.commit().map_err(&err)
    }

    /// Stores cluster ids computed elsewhere under `source` (replacing an earlier import of
    /// the same source); `rows` are `(relative path, cluster)`. Returns how many matched a
    /// photo of the catalogue, and the paths that did not.
    pub fn import_clusters(
        &mut self,
        source: &str,
        rows: &[(String, i64)],
    ) -> Result<(usize, Vec<String>), GalleryError> {
        check_source_name(source)?;
        let path = self.path.clone();
        let err = db_err(&path);
        let tx = self.conn.transaction().map_err(&err)?;
        tx.execute("DELETE FROM imported_clusters WHERE source = ?1", [source])
            .map_err(&err)?;
        let (mut matched, mut unknown) = (0, Vec::new());
        {
            let mut find = tx
                .prepare("SELECT id FROM photos WHERE rel_path = ?1")
                .map_err(&err)?;
            let mut insert = tx
                .prepare(
                    "INSERT OR REPLACE INTO imported_clusters (source, photo_id, cluster, imported) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(&err)?;
            let now = now_text();
            for (rel_path, cluster) in rows {
                let id: Option<i64> = find
                    .query_row([rel_path], |r| r.get(0))
                    .optional()
                    .map_err(&err)?;
                match id {
                    Some(id) => {
                        insert
                            .execute(params![source, id, cluster, now])
                            .map_err(&err)?;
                        matched += 1;
                    }
                    None => unknown.push(rel_path.clone()),
                }
            }
        }
        tx.commit().map_err(&err)?;
        Ok((matched, unknown))
    }

    /// Every imported cluster id, by the photo's relative path: `(source, cluster)`, sources
    /// in name order.
    pub fn imported_by_photo(&self) -> Result<HashMap<String, Vec<(String, i64)>>, GalleryError> {
        let err = db_err(&self.path);
        let mut st = self
            .conn
            .prepare(
                "SELECT p.rel_path, c.source, c.cluster FROM imported_clusters c
                 JOIN photos p ON p.id = c.photo_id ORDER BY c.source",
            )
            .map_err(&err)?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })
            .map_err(&err)?;
        let mut out: HashMap<String, Vec<(String, i64)>> = HashMap::new();
        for row in rows {
            let (path, source, cluster) = row.map_err(&err)?;
            out.entry(path).or_default().push((source, cluster));
        }
        Ok(out)
    }

    /// `(relative path, cluster)` of an imported source, by path.
    pub fn imported_clusters(&self, source: &str) -> Result<Vec<(String, i64)>, GalleryError> {
        let err = db_err(&self.path);
        let mut st = self
            .conn
            .prepare(
                "SELECT p.rel_path, c.cluster FROM imported_clusters c JOIN photos p ON p.id = c.photo_id
                 WHERE c.source = ?1 ORDER BY p.rel_path",
            )
            .map_err(&err)?;
        let rows = st
            .query_map([source], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// The runs, oldest first: `(id, status, counts JSON)`.
    pub fn runs(&self) -> Result<Vec<(i64, String, Option<String>)>, GalleryError> {
        let err = db_err(&self.path);
        let mut st = self
            .conn
            .prepare("SELECT id, status, counts FROM runs ORDER BY id")
            .map_err(&err)?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// The catalogue as rows for an export: photo id, relative path, time, place, the
    /// embedding clustered (the model's when there is one, else the statistics) and the
    /// signals, calling `row` for each so that nothing is held whole.
    pub fn for_each_export_row(
        &self,
        row: &mut dyn FnMut(ExportRow) -> Result<(), GalleryError>,
    ) -> Result<(), GalleryError> {
        let err = db_err(&self.path);
        let mut st = self
            .conn
            .prepare(
                "SELECT p.id, p.rel_path, p.taken, p.lat, p.lon, p.camera, p.content_hash,
                        f.embedder, f.stats, s.model, s.embedding, s.tags, s.text,
                        (SELECT COUNT(*) FROM faces WHERE photo_id = p.id)
                 FROM photos p LEFT JOIN features f ON f.photo_id = p.id
                 LEFT JOIN signals s ON s.photo_id = p.id ORDER BY p.id",
            )
            .map_err(&err)?;
        let mut rows = st.query([]).map_err(&err)?;
        while let Some(r) = rows.next().map_err(&err)? {
            let model: Option<String> = r.get(9).map_err(&err)?;
            let embedding: Option<Vec<u8>> = match &model {
                Some(_) => r.get(10).map_err(&err)?,
                None => r.get(8).map_err(&err)?,
            };
            let embedder: Option<String> = match model {
                Some(m) => Some(m),
                None => r.get(7).map_err(&err)?,
            };
            let text: Option<String> = r.get(12).map_err(&err)?;
            let text: Option<TextSignals> = text
                .map(|t| from_json(&t, "text signals"))
                .transpose()
                .map_err(&err)?;
            let tags: Option<String> = r.get(11).map_err(&err)?;
            let tags: Vec<Tag> = tags
                .map(|t| from_json(&t, "tags"))
                .transpose()
                .map_err(&err)?
                .unwrap_or_default();
            let taken: WallClock =
                from_json(&r.get::<_, String>(2).map_err(&err)?, "taken").map_err(&err)?;
            row(ExportRow {
                photo_id: r.get(0).map_err(&err)?,
                rel_path: r.get(1).map_err(&err)?,
                taken: taken.to_string(),
                lat: r.get(3).map_err(&err)?,
                lon: r.get(4).map_err(&err)?,
                camera: r.get(5).map_err(&err)?,
                content_hash: r.get::<_, i64>(6).map_err(&err)? as u64,
                embedder: embedder.unwrap_or_default(),
                embedding: embedding.map(|b| f32_from_blob(&b)).unwrap_or_default(),
                text_area: text.as_ref().map(|t| t.area),
                text_boxes: text.as_ref().map(|t| t.boxes),
                top_tag: tags.first().map(|t| t.class),
                faces: r.get::<_, i64>(13).map_err(&err)? as u32,
            })?;
        }
        Ok(())
    }
}

/// One photo as the Parquet export writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow {
    pub photo_id: i64,
    pub rel_path: String,
    /// Local wall-clock time, `YYYY-MM-DD HH:MM:SS[+HH:MM]`.
    pub taken: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub camera: Option<String>,
    pub content_hash: u64,
    /// Which model (and version) made `embedding`, or the built-in statistics.
    pub embedder: String,
    pub embedding: Vec<f32>,
    pub text_area: Option<f32>,
    pub text_boxes: Option<u32>,
    /// Most probable ImageNet class.
    pub top_tag: Option<u16>,
    pub faces: u32,
}

fn put_state(tx: &Transaction<'_>, key: &str, value: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO state (key, value) VALUES (?1, ?2)",
        params![key, value],
    )
    .map(|_| ())
}

/// Inserts or replaces one photo with its features, signals and faces; returns its id. The
/// statements are prepared once per connection (`prepare_cached`): 100,000 photos are
/// 600,000 executions.
fn put_photo(tx: &Transaction<'_>, p: &PhotoRecord, run: Option<i64>) -> rusqlite::Result<i64> {
    tx.prepare_cached(
        "INSERT INTO photos (rel_path, size, mtime_secs, mtime_nanos, content_hash, kind, taken,
            utc_offset_minutes, time_source, lat, lon, orientation, camera, thumb_width,
            thumb_height, notes, first_run)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
         ON CONFLICT(rel_path) DO UPDATE SET size = excluded.size, mtime_secs = excluded.mtime_secs,
            mtime_nanos = excluded.mtime_nanos, content_hash = excluded.content_hash,
            kind = excluded.kind, taken = excluded.taken,
            utc_offset_minutes = excluded.utc_offset_minutes, time_source = excluded.time_source,
            lat = excluded.lat, lon = excluded.lon, orientation = excluded.orientation,
            camera = excluded.camera, thumb_width = excluded.thumb_width,
            thumb_height = excluded.thumb_height, notes = excluded.notes",
    )?
    .execute(params![
        p.rel_path,
        p.size as i64,
        p.mtime_secs,
        p.mtime_nanos,
        p.content_hash as i64,
        json(&p.kind),
        json(&p.taken),
        p.taken.utc_offset_minutes,
        json(&p.time_source),
        p.gps.map(|g| g.lat),
        p.gps.map(|g| g.lon),
        p.orientation,
        p.camera,
        p.thumb_width,
        p.thumb_height,
        json(&p.notes),
        run,
    ])?;
    let id: i64 = tx
        .prepare_cached("SELECT id FROM photos WHERE rel_path = ?1")?
        .query_row([&p.rel_path], |r| r.get(0))?;
    tx.prepare_cached("DELETE FROM features WHERE photo_id = ?1")?
        .execute([id])?;
    tx.prepare_cached("DELETE FROM signals WHERE photo_id = ?1")?
        .execute([id])?;
    tx.prepare_cached("DELETE FROM faces WHERE photo_id = ?1")?
        .execute([id])?;
    let Some(c) = &p.content else {
        return Ok(id);
    };
    tx.prepare_cached("INSERT INTO features (photo_id, embedder, stats, pixels, dhash) VALUES (?1, ?2, ?3, ?4, ?5)")?.execute(
        params![id, c.embedder, f32_blob(&c.embedding), c.pixels, c.dhash as i64],
    )?;
    let Some(s) = &c.signals else {
        return Ok(id);
    };
    tx.prepare_cached("INSERT INTO signals (photo_id, model, embedding, tags, text, face_image_width, face_image_height)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?.execute(
        params![
            id,
            c.embedder,
            f32_blob(&s.embedding),
            json(&s.tags),
            s.text.as_ref().map(json),
            s.faces.as_ref().map(|f| f.width),
            s.faces.as_ref().map(|f| f.height),
        ],
    )?;
    if let Some(faces) = &s.faces {
        for (i, face) in faces.faces.iter().enumerate() {
            tx.prepare_cached("INSERT INTO faces (photo_id, face, score, bbox, keypoints, descriptor) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?.execute(
                params![
                    id,
                    i as i64,
                    face.score,
                    json(&face.bbox),
                    json(&face.keypoints),
                    face.descriptor.as_deref().map(f32_blob),
                ],
            )?;
        }
    }
    Ok(id)
}

/// Collects the photos a scan reads and commits them in batches (every [`BATCH`] photos or
/// [`BATCH_SECONDS`]), so that a killed run keeps what it read.
pub struct PhotoSink<'a> {
    catalog: &'a Mutex<Catalog>,
    run: i64,
    pending: Mutex<(Vec<PhotoRecord>, Instant)>,
    /// The first error of a commit; the scan goes on, the run fails at its end.
    error: Mutex<Option<GalleryError>>,
}

/// Photos per committed batch.
pub const BATCH: usize = 256;
/// Longest wait before a batch is committed anyway.
pub const BATCH_SECONDS: f64 = 2.0;

impl<'a> PhotoSink<'a> {
    pub fn new(catalog: &'a Mutex<Catalog>, run: i64) -> Self {
        PhotoSink {
            catalog,
            run,
            pending: Mutex::new((Vec::new(), Instant::now())),
            error: Mutex::new(None),
        }
    }

    /// Takes one photo read from its file (not one reused from the catalogue).
    pub fn push(&self, record: &PhotoRecord) {
        let batch = {
            let Ok(mut pending) = self.pending.lock() else {
                return;
            };
            pending.0.push(record.clone());
            if pending.0.len() < BATCH && pending.1.elapsed().as_secs_f64() < BATCH_SECONDS {
                return;
            }
            pending.1 = Instant::now();
            std::mem::take(&mut pending.0)
        };
        self.commit(&batch);
    }

    fn commit(&self, batch: &[PhotoRecord]) {
        let result = match self.catalog.lock() {
            Ok(mut c) => c.put_photos(batch, Some(self.run)),
            Err(_) => return,
        };
        if let Err(e) = result {
            if let Ok(mut slot) = self.error.lock() {
                slot.get_or_insert(e);
            }
        }
    }

    /// Commits what is pending; the first commit error, if any.
    pub fn finish(self) -> Result<(), GalleryError> {
        let batch = self
            .pending
            .lock()
            .map(|mut p| std::mem::take(&mut p.0))
            .unwrap_or_default();
        self.commit(&batch);
        match self.error.into_inner() {
            Ok(Some(e)) => Err(e),
            _ => Ok(()),
        }
    }
}

/// An import's name becomes a folder (`by-imported/<name>/cluster-N`): one plain path
/// component, no hidden or parent folder.
pub fn check_source_name(name: &str) -> Result<(), GalleryError> {
    let plain = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if plain {
        Ok(())
    } else {
        Err(GalleryError::InvalidParams(format!(
            "the name of imported clusters becomes a folder: use 1-64 letters, digits, '-', '_' or '.' (not first), got {name:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::civil::Day;

    #[test]
    fn an_import_name_is_one_plain_folder_name() {
        for good in ["spark", "spark-kmeans_k12", "run.2"] {
            assert!(check_source_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            ".hidden",
            "a b",
            "é",
            &"x".repeat(65),
        ] {
            assert!(check_source_name(bad).is_err(), "{bad:?}");
        }
    }

    fn record(i: usize, with_signals: bool) -> PhotoRecord {
        let faces = FaceSignals {
            width: 640,
            height: 480,
            faces: vec![Face {
                score: 0.9,
                bbox: [1.0, 2.0, 30.0, 40.0],
                keypoints: [[1.0, 1.5]; 6],
                descriptor: Some(vec![0.25; 128]),
            }],
        };
        PhotoRecord {
            rel_path: format!("DCIM/IMG_{i:04}.jpg"),
            size: 1000 + i as u64,
            mtime_secs: 1_700_000_000 + i as i64,
            mtime_nanos: 123,
            kind: ImageKind::Jpeg,
            taken: WallClock {
                day: Day {
                    year: 2026,
                    month: 5,
                    day: 3,
                },
                seconds_of_day: 3600 + i as u32,
                utc_offset_minutes: Some(120),
            },
            time_source: TimeSource::ExifOriginal,
            gps: Some(GpsPoint {
                lat: 45.75,
                lon: 4.85,
            }),
            orientation: 6,
            camera: Some("Pixel 8".into()),
            thumb_width: 320,
            thumb_height: 240,
            content: Some(ContentFeatures {
                embedding: vec![0.5, -1.25, 3.0e-8],
                signals: with_signals.then(|| PhotoSignals {
                    embedding: vec![1.0; 1280],
                    tags: vec![Tag {
                        class: 978,
                        prob: 0.5,
                    }],
                    text: Some(TextSignals {
                        area: 0.1,
                        boxes: 3,
                        box_cover: 0.2,
                        grid: vec![0.0; 16],
                    }),
                    faces: Some(faces),
                }),
                embedder: "efficientnet-lite2@sha:abc".into(),
                dhash: u64::MAX - i as u64,
                pixels: vec![7; 784],
            }),
            notes: vec!["a note".into()],
            content_hash: u64::MAX - 5,
        }
    }

    #[test]
    fn photos_come_back_as_they_were_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut c = Catalog::open_for_run(dir.path()).expect("open");
        let photos = vec![record(0, true), record(1, false)];
        c.put_photos(&photos, None).expect("put");
        let back = c.photos().expect("read");
        assert_eq!(back.len(), 2);
        for p in &photos {
            assert_eq!(back.get(&p.rel_path), Some(p));
        }
        // Writing a photo again replaces it, features and faces included.
        let mut changed = record(0, false);
        changed.size = 5;
        c.put_photos(&[changed.clone()], None).expect("put");
        assert_eq!(
            c.photos().expect("read").get(&changed.rel_path),
            Some(&changed)
        );
        assert_eq!(c.photo_count().expect("count"), 2);
    }

    #[test]
    fn an_older_schema_is_migrated_and_keeps_its_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(CATALOG_FILE);
        {
            let conn = Connection::open(&path).expect("create");
            conn.execute_batch(&schema_sql(1)).expect("v1 schema");
            conn.pragma_update(None, "user_version", 1)
                .expect("version");
            conn.execute(
                "INSERT INTO photos (rel_path, size, mtime_secs, mtime_nanos, content_hash, kind,
                   taken, time_source, orientation, thumb_width, thumb_height, notes)
                 VALUES ('a.jpg', 10, 1, 2, 3, '\"jpeg\"',
                   '{\"day\":{\"year\":2020,\"month\":1,\"day\":2},\"seconds_of_day\":5,\"utc_offset_minutes\":null}',
                   '\"file_mtime\"', 1, 0, 0, '[]')",
                [],
            )
            .expect("v1 row");
        }
        // Read only: migrated in memory, the file stays at version 1.
        let ro = Catalog::open_read_only(dir.path())
            .expect("open")
            .expect("exists");
        assert_eq!(ro.schema_version().expect("version"), SCHEMA_VERSION);
        assert!(ro.photos().expect("photos").contains_key("a.jpg"));
        drop(ro);
        let conn = Connection::open(&path).expect("reopen");
        let v: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(v, 1);
        drop(conn);
        // A writing run migrates the file itself.
        let mut c = Catalog::open_for_run(dir.path()).expect("open");
        assert_eq!(c.schema_version().expect("version"), SCHEMA_VERSION);
        let (matched, unknown) = c
            .import_clusters("spark", &[("a.jpg".into(), 3), ("gone.jpg".into(), 1)])
            .expect("import");
        assert_eq!((matched, unknown), (1, vec!["gone.jpg".to_string()]));
        assert_eq!(
            c.imported_clusters("spark").expect("read"),
            vec![("a.jpg".to_string(), 3)]
        );
    }

    #[test]
    fn a_second_writer_is_refused_and_a_newer_or_foreign_file_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = Catalog::open_for_run(dir.path()).expect("open");
        let second = Catalog::open_for_run(dir.path());
        assert!(
            matches!(second, Err(GalleryError::Locked { .. })),
            "{second:?}"
        );
        drop(first);
        let again = Catalog::open_for_run(dir.path()).expect("the lock goes with its holder");
        again
            .conn
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .expect("bump");
        drop(again);
        let newer = Catalog::open_for_run(dir.path()).expect_err("newer schema");
        assert!(newer.to_string().contains("newer"), "{newer}");

        let other = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            other.path().join(CATALOG_FILE),
            b"not a database at all, 42 bytes long....",
        )
        .expect("write");
        let foreign = Catalog::open_for_run(other.path()).expect_err("not sqlite");
        assert!(foreign.to_string().contains(CATALOG_FILE), "{foreign}");
    }

    #[test]
    fn a_closed_catalogue_is_read_without_writing_even_under_an_odd_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("My Photos ?#% é");
        std::fs::create_dir(&out).expect("mkdir");
        let mut c = Catalog::open_for_run(&out).expect("open");
        c.put_photos(&[record(3, true)], None).expect("put");
        drop(c);
        let before: Vec<_> = std::fs::read_dir(&out)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        let ro = Catalog::open_read_only(&out)
            .expect("open")
            .expect("exists");
        assert_eq!(ro.photo_count().expect("count"), 1);
        drop(ro);
        let after: Vec<_> = std::fs::read_dir(&out)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(after, before, "reading created files");
    }

    #[test]
    fn the_sink_commits_in_batches() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut c = Catalog::open_for_run(dir.path()).expect("open");
        let run = c.begin_run("{}", 7).expect("run");
        let catalog = Mutex::new(c);
        let sink = PhotoSink::new(&catalog, run);
        for i in 0..BATCH + 3 {
            sink.push(&record(i, false));
        }
        // One full batch is committed before the end; the rest with finish.
        let reader = Catalog::open_read_only(dir.path())
            .expect("open")
            .expect("exists");
        assert_eq!(reader.photo_count().expect("count"), BATCH);
        sink.finish().expect("finish");
        assert_eq!(reader.photo_count().expect("count"), BATCH + 3);
    }
}
