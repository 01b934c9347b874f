//! The organizer's catalogue beyond one machine: [`export_parquet`] writes every photo's id,
//! path, time, place, signals and clustered embedding as one Parquet file that Spark (or
//! pandas, DuckDB, ...) reads as it is; [`read_clusters`] reads cluster ids computed there
//! (a CSV or a Parquet file) so that `Catalog::import_clusters` can store them.
//!
//! The embedding is a `LIST<FLOAT>` column (Spark: `array<float>`, turned into an ML vector
//! with `pyspark.ml.functions.array_to_vector`).

use deepclust_gallery::catalog::{Catalog, ExportRow};
use deepclust_gallery::GalleryError;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, FloatType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::record::Field;
use parquet::schema::parser::parse_message_type;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The exported file's name inside the export folder.
pub const PHOTOS_FILE: &str = "photos.parquet";

/// Rows per row group: about 5 MB of 1,280-float embeddings, so a reader holds little.
const ROW_GROUP: usize = 1024;

/// The Parquet schema of the export.
pub const SCHEMA: &str = "message photo {
  REQUIRED INT64 photo_id;
  REQUIRED BYTE_ARRAY path (UTF8);
  REQUIRED BYTE_ARRAY taken (UTF8);
  OPTIONAL DOUBLE lat;
  OPTIONAL DOUBLE lon;
  OPTIONAL BYTE_ARRAY camera (UTF8);
  REQUIRED INT64 content_hash;
  REQUIRED BYTE_ARRAY embedder (UTF8);
  REQUIRED INT32 dim;
  REQUIRED GROUP embedding (LIST) {
    REPEATED GROUP list {
      REQUIRED FLOAT element;
    }
  }
  OPTIONAL FLOAT text_area;
  OPTIONAL INT32 text_boxes;
  OPTIONAL INT32 top_tag;
  REQUIRED INT32 faces;
}";

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Catalog(#[from] GalleryError),
    #[error("{}: {source}", .path.display())]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A clusters file without the columns it needs, or a value that is not one.
    #[error("{}: {problem}", .path.display())]
    BadClusters { path: PathBuf, problem: String },
    #[error("{} holds no catalogue (run `deepclust organize` into it first)", .0.display())]
    NoCatalog(PathBuf),
}

/// What [`export_parquet`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSummary {
    pub file: PathBuf,
    pub rows: usize,
    pub bytes: u64,
    /// Embedders of the exported embeddings with their row counts (a catalogue may hold
    /// photos embedded by the statistics and by a model; cluster one kind at a time).
    pub embedders: Vec<(String, usize)>,
}

/// Writes the catalogue of the organized folder `output` into `dir/photos.parquet`
/// (written aside, then renamed: a failed export leaves no half file).
pub fn export_parquet(output: &Path, dir: &Path) -> Result<ExportSummary, ExportError> {
    let catalog =
        Catalog::open_read_only(output)?.ok_or_else(|| ExportError::NoCatalog(output.into()))?;
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Io {
        path: dir.into(),
        source,
    })?;
    let file = dir.join(PHOTOS_FILE);
    let part = dir.join(format!("{PHOTOS_FILE}.part"));
    let pq = |source| ExportError::Parquet {
        path: file.clone(),
        source,
    };
    let schema = Arc::new(parse_message_type(SCHEMA).map_err(pq)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let sink = File::create(&part).map_err(|source| ExportError::Io {
        path: part.clone(),
        source,
    })?;
    let mut writer = SerializedFileWriter::new(sink, schema, props).map_err(pq)?;
    let mut batch: Vec<ExportRow> = Vec::with_capacity(ROW_GROUP);
    let mut rows = 0usize;
    let mut embedders: std::collections::BTreeMap<String, usize> = Default::default();
    let mut failure: Option<ExportError> = None;
    catalog.for_each_export_row(&mut |row| {
        *embedders.entry(row.embedder.clone()).or_default() += 1;
        batch.push(row);
        if batch.len() == ROW_GROUP {
            if let Err(e) = write_group(&mut writer, &batch) {
                failure.get_or_insert(pq(e));
            }
            rows += batch.len();
            batch.clear();
        }
        Ok(())
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if !batch.is_empty() {
        write_group(&mut writer, &batch).map_err(pq)?;
        rows += batch.len();
    }
    writer.close().map_err(pq)?;
    std::fs::rename(&part, &file).map_err(|source| ExportError::Io {
        path: file.clone(),
        source,
    })?;
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    Ok(ExportSummary {
        file,
        rows,
        bytes,
        embedders: embedders.into_iter().collect(),
    })
}

/// Definition levels of an optional column: 1 where there is a value.
fn optional<T: Copy>(values: impl Iterator<Item = Option<T>>) -> (Vec<T>, Vec<i16>) {
    let mut present = Vec::new();
    let mut defs = Vec::new();
    for v in values {
        defs.push(i16::from(v.is_some()));
        present.extend(v);
    }
    (present, defs)
}

fn utf8(s: &str) -> ByteArray {
    ByteArray::from(s.as_bytes().to_vec())
}

/// One row group: the columns in the schema's order.
fn write_group(
    writer: &mut SerializedFileWriter<File>,
    rows: &[ExportRow],
) -> Result<(), parquet::errors::ParquetError> {
    let mut group = writer.next_row_group()?;
    let mut column = 0usize;
    while let Some(mut col) = group.next_column()? {
        match column {
            0 => {
                let v: Vec<i64> = rows.iter().map(|r| r.photo_id).collect();
                col.typed::<Int64Type>().write_batch(&v, None, None)?;
            }
            1 | 2 | 7 => {
                let v: Vec<ByteArray> = rows
                    .iter()
                    .map(|r| match column {
                        1 => utf8(&r.rel_path),
                        2 => utf8(&r.taken),
                        _ => utf8(&r.embedder),
                    })
                    .collect();
                col.typed::<ByteArrayType>().write_batch(&v, None, None)?;
            }
            3 | 4 => {
                let (v, d) = optional(rows.iter().map(|r| if column == 3 { r.lat } else { r.lon }));
                col.typed::<DoubleType>().write_batch(&v, Some(&d), None)?;
            }
            5 => {
                let mut v = Vec::new();
                let mut d = Vec::new();
                for r in rows {
                    d.push(i16::from(r.camera.is_some()));
                    if let Some(c) = &r.camera {
                        v.push(utf8(c));
                    }
                }
                col.typed::<ByteArrayType>()
                    .write_batch(&v, Some(&d), None)?;
            }
            6 => {
                // The FNV-1a hash's bits as a signed 64-bit integer (Spark has no unsigned).
                let v: Vec<i64> = rows.iter().map(|r| r.content_hash as i64).collect();
                col.typed::<Int64Type>().write_batch(&v, None, None)?;
            }
            8 => {
                let v: Vec<i32> = rows.iter().map(|r| r.embedding.len() as i32).collect();
                col.typed::<Int32Type>().write_batch(&v, None, None)?;
            }
            9 => {
                // A required list of required floats: definition 1 for an element, 0 for an
                // empty list; repetition 0 starts a row's list, 1 continues it.
                let mut values = Vec::new();
                let (mut defs, mut reps) = (Vec::new(), Vec::new());
                for r in rows {
                    if r.embedding.is_empty() {
                        defs.push(0);
                        reps.push(0);
                        continue;
                    }
                    for (i, &x) in r.embedding.iter().enumerate() {
                        values.push(x);
                        defs.push(1);
                        reps.push(i16::from(i > 0));
                    }
                }
                col.typed::<FloatType>()
                    .write_batch(&values, Some(&defs), Some(&reps))?;
            }
            10 => {
                let (v, d) = optional(rows.iter().map(|r| r.text_area));
                col.typed::<FloatType>().write_batch(&v, Some(&d), None)?;
            }
            11 | 12 => {
                let (v, d) = optional(rows.iter().map(|r| {
                    if column == 11 {
                        r.text_boxes.map(|b| b as i32)
                    } else {
                        r.top_tag.map(i32::from)
                    }
                }));
                col.typed::<Int32Type>().write_batch(&v, Some(&d), None)?;
            }
            _ => {
                let v: Vec<i32> = rows.iter().map(|r| r.faces as i32).collect();
                col.typed::<Int32Type>().write_batch(&v, None, None)?;
            }
        }
        col.close()?;
        column += 1;
    }
    group.close()?;
    Ok(())
}

/// `(relative path, cluster)` rows of a clusters file: a CSV with a header naming a `path`
/// column and a `cluster` (or Spark's `prediction`) column, or a Parquet file (or a folder
/// of `part-*.parquet` files, as Spark writes them) with those columns.
pub fn read_clusters(file: &Path) -> Result<Vec<(String, i64)>, ExportError> {
    let bad = |problem: String| ExportError::BadClusters {
        path: file.to_path_buf(),
        problem,
    };
    if file.is_dir() {
        let mut parts: Vec<PathBuf> = std::fs::read_dir(file)
            .map_err(|source| ExportError::Io {
                path: file.into(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                !name.starts_with('.')
                    && !name.starts_with('_')
                    && (name.ends_with(".parquet") || name.ends_with(".csv"))
            })
            .collect();
        parts.sort();
        if parts.is_empty() {
            return Err(bad("no .parquet or .csv part files in this folder".into()));
        }
        let mut all = Vec::new();
        for part in parts {
            all.extend(read_clusters(&part)?);
        }
        return Ok(all);
    }
    let mut head = [0u8; 4];
    let is_parquet = File::open(file)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .map(|()| &head == b"PAR1")
        .unwrap_or(false);
    if is_parquet {
        read_parquet_clusters(file)
    } else {
        read_csv_clusters(file).map_err(bad)
    }
}

const PATH_COLUMNS: [&str; 2] = ["path", "rel_path"];
const CLUSTER_COLUMNS: [&str; 2] = ["cluster", "prediction"];

fn read_csv_clusters(file: &Path) -> Result<Vec<(String, i64)>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let mut lines = text.lines();
    let header: Vec<String> = split_csv(lines.next().ok_or("the file is empty")?);
    let find = |names: &[&str]| header.iter().position(|h| names.contains(&h.trim()));
    let (Some(p), Some(c)) = (find(&PATH_COLUMNS), find(&CLUSTER_COLUMNS)) else {
        return Err(format!(
            "the header must name a path column ({}) and a cluster column ({}), found {:?}",
            PATH_COLUMNS.join(" or "),
            CLUSTER_COLUMNS.join(" or "),
            header
        ));
    };
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields = split_csv(line);
        let (Some(path), Some(cluster)) = (fields.get(p), fields.get(c)) else {
            return Err(format!("line {}: fewer fields than the header", i + 2));
        };
        let cluster: i64 = cluster
            .trim()
            .parse()
            .map_err(|_| format!("line {}: cluster {cluster:?} is not an integer", i + 2))?;
        rows.push((path.clone(), cluster));
    }
    Ok(rows)
}

/// One CSV line: commas separate, double quotes quote (a doubled quote is a quote).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(ch) = chars.next() {
        match (ch, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field)),
            _ => field.push(ch),
        }
    }
    out.push(field);
    out
}

fn read_parquet_clusters(file: &Path) -> Result<Vec<(String, i64)>, ExportError> {
    let pq = |source| ExportError::Parquet {
        path: file.to_path_buf(),
        source,
    };
    let bad = |problem: String| ExportError::BadClusters {
        path: file.to_path_buf(),
        problem,
    };
    let f = File::open(file).map_err(|source| ExportError::Io {
        path: file.into(),
        source,
    })?;
    let reader = SerializedFileReader::new(f).map_err(pq)?;
    let mut out = Vec::new();
    for row in reader.get_row_iter(None).map_err(pq)? {
        let row = row.map_err(pq)?;
        let (mut path, mut cluster) = (None, None);
        for (name, field) in row.get_column_iter() {
            if PATH_COLUMNS.contains(&name.as_str()) {
                if let Field::Str(s) = field {
                    path = Some(s.clone());
                }
            } else if CLUSTER_COLUMNS.contains(&name.as_str()) {
                cluster = match field {
                    Field::Int(v) => Some(i64::from(*v)),
                    Field::Long(v) => Some(*v),
                    Field::Short(v) => Some(i64::from(*v)),
                    Field::Double(v) if v.fract() == 0.0 => Some(*v as i64),
                    _ => None,
                };
            }
        }
        match (path, cluster) {
            (Some(p), Some(c)) => out.push((p, c)),
            _ => {
                return Err(bad(format!(
                    "every row needs a string path column ({}) and an integer cluster column ({})",
                    PATH_COLUMNS.join(" or "),
                    CLUSTER_COLUMNS.join(" or ")
                )))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use deepclust_gallery::params::EmbedderSpec;
    use deepclust_gallery::{organize, GroupKind, OrganizeParams};
    use parquet::record::{ListAccessor, RowAccessor};
    use std::sync::atomic::AtomicBool;

    fn organized(dir: &Path) -> PathBuf {
        let photos = dir.join("Photos");
        deepclust_gallery::sample_library::write_sample_library(&photos, 24, 3).expect("library");
        let out = dir.join("out");
        let params = OrganizeParams::new(&photos, &out)
            .by(vec![GroupKind::Date, GroupKind::Content])
            .with_embedder(EmbedderSpec::Stats);
        organize(&params, &|_| {}, &AtomicBool::new(false)).expect("organize");
        out
    }

    #[test]
    fn the_export_holds_every_photo_with_its_embedding_and_clusters_come_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = organized(dir.path());
        let summary = export_parquet(&out, &dir.path().join("export")).expect("export");
        assert_eq!(summary.rows, 24);
        assert!(!summary.file.with_extension("parquet.part").exists());

        let catalog = Catalog::open_read_only(&out)
            .expect("open")
            .expect("exists");
        let mut expected = Vec::new();
        catalog
            .for_each_export_row(&mut |r| {
                expected.push(r);
                Ok(())
            })
            .expect("rows");
        let reader = SerializedFileReader::new(File::open(&summary.file).expect("open"))
            .expect("a Parquet file");
        let mut seen = 0;
        for (row, want) in reader.get_row_iter(None).expect("rows").zip(&expected) {
            let row = row.expect("row");
            assert_eq!(row.get_long(0).expect("id"), want.photo_id);
            assert_eq!(row.get_string(1).expect("path"), &want.rel_path);
            assert_eq!(row.get_int(8).expect("dim") as usize, want.embedding.len());
            let list = row.get_list(9).expect("embedding");
            let floats: Vec<f32> = (0..list.len())
                .map(|i| list.get_float(i).expect("float"))
                .collect();
            assert_eq!(floats, want.embedding);
            seen += 1;
        }
        assert_eq!(seen, 24);

        // Cluster ids from elsewhere, as CSV (with a quoted path) and as a Spark part folder.
        let csv = dir.path().join("clusters.csv");
        let mut text = String::from("photo_id,path,prediction\n");
        for (i, r) in expected.iter().enumerate() {
            text.push_str(&format!("{},\"{}\",{}\n", r.photo_id, r.rel_path, i % 3));
        }
        std::fs::write(&csv, text).expect("csv");
        let rows = read_clusters(&csv).expect("read");
        assert_eq!(rows.len(), 24);
        assert_eq!(rows[4], (expected[4].rel_path.clone(), 1));
        let spark = dir.path().join("spark-out");
        std::fs::create_dir(&spark).expect("mkdir");
        std::fs::write(spark.join("_SUCCESS"), b"").expect("marker");
        std::fs::copy(&csv, spark.join("part-00000.csv")).expect("part");
        assert_eq!(read_clusters(&spark).expect("folder"), rows);

        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "file,label\na.jpg,1\n").expect("write");
        let err = read_clusters(&bad).expect_err("no path column");
        assert!(err.to_string().contains("path column"), "{err}");
    }

    #[test]
    fn csv_fields_follow_the_quoting_rules() {
        assert_eq!(split_csv(r#"a,"b,c","d""e""#), vec!["a", "b,c", "d\"e"]);
        assert_eq!(split_csv(""), vec![""]);
    }
}
