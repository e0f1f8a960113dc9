//! Reading an import file (CSV or XLSX) as a stream of rows under a recognised header, within
//! bounds on what it unpacks to, its rows and its columns.

use std::collections::HashMap;
use std::io::BufReader;
use std::path::Path;

use calamine::{DataRef, Reader, Xlsx};

/// File formats accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub(super) fn parse(s: &str) -> Option<Format> {
        match s {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    /// Recognises a file by its first bytes: a ZIP container is XLSX, UTF-8 text is CSV.
    pub fn sniff(first_bytes: &[u8]) -> Option<Format> {
        if first_bytes.starts_with(b"PK\x03\x04") {
            return Some(Format::Xlsx);
        }
        let text_like = !first_bytes.is_empty() && !first_bytes.contains(&0);
        let utf8 = match std::str::from_utf8(first_bytes) {
            Ok(_) => true,
            // A multi-byte character cut at the end of the sample is still text.
            Err(e) => e.error_len().is_none(),
        };
        (text_like && utf8).then_some(Format::Csv)
    }
}

/// The template's columns, Spanish first; English names are accepted too.
pub const COLUMNS: [(&str, &str); 9] = [
    ("nombre", "name"),
    ("descripción", "description"),
    ("precio", "price"),
    ("categoria", "category"),
    ("sku", "sku"),
    ("stock", "stock"),
    ("imagen_url", "image_url"),
    ("peso", "weight"),
    ("dimensiones", "dimensions"),
];

const REQUIRED: [&str; 3] = ["name", "price", "category"];

/// Which column holds which field.
pub(super) struct Header {
    positions: HashMap<&'static str, usize>,
}

fn fold(s: &str) -> String {
    s.trim().to_lowercase().replace(['á', 'à'], "a").replace('é', "e").replace('í', "i").replace('ó', "o").replace('ú', "u")
}

impl Header {
    fn parse(cells: &[String]) -> Result<Header, String> {
        let mut positions = HashMap::new();
        for (i, cell) in cells.iter().enumerate() {
            let name = fold(cell);
            if let Some((_, english)) = COLUMNS.iter().find(|(es, en)| fold(es) == name || *en == name) {
                positions.entry(*english).or_insert(i);
            }
        }
        let missing: Vec<&str> = REQUIRED.iter().filter(|c| !positions.contains_key(*c)).copied().collect();
        if missing.is_empty() {
            Ok(Header { positions })
        } else {
            let spanish: Vec<&str> =
                missing.iter().map(|m| COLUMNS.iter().find(|(_, en)| en == m).map(|(es, _)| *es).unwrap_or(m)).collect();
            Err(format!("Faltan columnas obligatorias: {}", spanish.join(", ")))
        }
    }

    pub(super) fn get<'a>(&self, cells: &'a [String], column: &str) -> &'a str {
        self.positions.get(column).and_then(|&i| cells.get(i)).map(|s| s.trim()).unwrap_or("")
    }
}

/// Why a file could not be read at all.
pub type FileError = String;

/// The most rows (header included) and columns an import file may have.
pub const MAX_ROWS: usize = 200_000;
pub const MAX_COLUMNS: usize = 64;
/// The most an XLSX may unpack to: its shared strings are read whole into memory, so a small
/// file that unpacks to gigabytes is refused before it is opened.
pub const MAX_XLSX_UNPACKED_BYTES: u64 = 512 * 1024 * 1024;

/// Refuses an XLSX whose parts would unpack to more than [`MAX_XLSX_UNPACKED_BYTES`], going by
/// the sizes its zip directory declares (the reader stops at those sizes).
fn check_unpacked_size(path: &Path) -> Result<(), FileError> {
    let file = std::fs::File::open(path).map_err(|e| format!("No se pudo leer el archivo: {e}"))?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| format!("XLSX inválido: {e}"))?;
    let mut unpacked = 0u64;
    for i in 0..archive.len() {
        let part = archive.by_index_raw(i).map_err(|e| format!("XLSX inválido: {e}"))?;
        unpacked = unpacked.saturating_add(part.size());
    }
    if unpacked > MAX_XLSX_UNPACKED_BYTES {
        return Err(format!("El XLSX se descomprime en más de {} MB; dividilo en archivos más chicos", MAX_XLSX_UNPACKED_BYTES >> 20));
    }
    Ok(())
}

/// Calls `each(header, line, cells)` for every non-empty row after the header.
pub(super) fn read_rows(path: &Path, format: Format, mut each: impl FnMut(&Header, usize, Vec<String>)) -> Result<(), FileError> {
    let mut header: Option<Header> = None;
    let mut handle = |line: usize, cells: Vec<String>| -> Result<(), FileError> {
        if line > MAX_ROWS {
            return Err(format!("El archivo tiene más de {MAX_ROWS} filas; dividilo en archivos más chicos"));
        }
        if cells.len() > MAX_COLUMNS {
            return Err(format!("La fila {line} tiene más de {MAX_COLUMNS} columnas"));
        }
        if cells.iter().all(|c| c.trim().is_empty()) {
            return Ok(());
        }
        match &header {
            None => header = Some(Header::parse(&cells)?),
            Some(h) => each(h, line, cells),
        }
        Ok(())
    };
    match format {
        Format::Csv => {
            let file = std::fs::File::open(path).map_err(|e| format!("No se pudo leer el archivo: {e}"))?;
            let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(BufReader::new(file));
            for (i, record) in reader.records().enumerate() {
                let record = record.map_err(|e| format!("CSV inválido en la línea {}: {e}", i + 1))?;
                let mut cells: Vec<String> = record.iter().map(String::from).collect();
                if let Some(first) = cells.first_mut().filter(|_| i == 0) {
                    // A byte-order mark from spreadsheet programs is not part of the first name.
                    *first = first.trim_start_matches('\u{feff}').to_string();
                }
                handle(i + 1, cells)?;
            }
        }
        Format::Xlsx => {
            check_unpacked_size(path)?;
            let file = std::fs::File::open(path).map_err(|e| format!("No se pudo leer el archivo: {e}"))?;
            let mut workbook: Xlsx<_> = Xlsx::new(BufReader::new(file)).map_err(|e| format!("XLSX inválido: {e}"))?;
            let sheet = workbook.sheet_names().first().cloned().ok_or("El XLSX no tiene hojas")?;
            let mut cells_reader = workbook.worksheet_cells_reader(&sheet).map_err(|e| format!("XLSX inválido: {e}"))?;
            let mut row: Option<u32> = None;
            let mut cells: Vec<String> = Vec::new();
            while let Some(cell) = cells_reader.next_cell().map_err(|e| format!("XLSX inválido: {e}"))? {
                let (r, c) = cell.get_position();
                if c as usize >= MAX_COLUMNS {
                    return Err(format!("La fila {} tiene más de {MAX_COLUMNS} columnas", r as usize + 1));
                }
                if row != Some(r) {
                    if let Some(previous) = row {
                        handle(previous as usize + 1, std::mem::take(&mut cells))?;
                    }
                    row = Some(r);
                }
                if cells.len() <= c as usize {
                    cells.resize(c as usize + 1, String::new());
                }
                cells[c as usize] = cell_text(cell.get_value());
            }
            if let Some(last) = row {
                handle(last as usize + 1, cells)?;
            }
        }
    }
    header.map(|_| ()).ok_or_else(|| "El archivo está vacío".to_string())
}

/// A spreadsheet cell as text. Numbers become their shortest exact decimal form.
fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => format!("{f}"),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::DateTime(d) => d.as_f64().to_string(),
        DataRef::Error(e) => format!("#{e:?}"),
        DataRef::Empty => String::new(),
    }
}
