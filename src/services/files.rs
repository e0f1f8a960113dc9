//! Stored files (product images): a local directory served under `/uploads/`.

use std::path::PathBuf;

/// Image formats accepted, recognised by their first bytes (never by name or declared type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Jpeg,
    Png,
    WebP,
    Gif,
}

impl ImageFormat {
    /// The format `bytes` start with, if it is one feria accepts.
    pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(ImageFormat::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageFormat::WebP)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(ImageFormat::Gif)
        } else {
            None
        }
    }

    fn extension(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Png => "png",
            ImageFormat::WebP => "webp",
            ImageFormat::Gif => "gif",
        }
    }
}

/// A stored file: its key (for deletion) and public URL path.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub key: String,
    pub url: String,
}

/// Files kept in a local directory.
pub struct FileStore {
    dir: PathBuf,
}

/// URL path under which stored files are served.
pub const PUBLIC_PREFIX: &str = "/uploads";

impl FileStore {
    pub fn new(dir: PathBuf) -> FileStore {
        FileStore { dir }
    }

    /// Stores an image under a new unique name inside `folder` (e.g. `products`).
    pub async fn put_image(&self, folder: &str, format: ImageFormat, bytes: &[u8]) -> std::io::Result<StoredFile> {
        let key = format!("{folder}/{}.{}", feria_domain::ids::new_id(), format.extension());
        let path = self.dir.join(&key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::write(&path, bytes).await?;
        Ok(StoredFile { url: format!("{PUBLIC_PREFIX}/{key}"), key })
    }

    /// Deletes a stored file; a file already gone is not an error.
    pub async fn delete(&self, key: &str) {
        if key.split('/').any(|part| part == ".." || part.is_empty()) {
            return;
        }
        match tokio::fs::remove_file(self.dir.join(key)).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(%key, error = %e, "could not delete a stored file"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(ImageFormat::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(ImageFormat::Jpeg));
        assert_eq!(ImageFormat::sniff(b"\x89PNG\r\n\x1a\n...."), Some(ImageFormat::Png));
        assert_eq!(ImageFormat::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(ImageFormat::WebP));
        assert_eq!(ImageFormat::sniff(b"GIF89a.."), Some(ImageFormat::Gif));
        assert_eq!(ImageFormat::sniff(b"%PDF-1.4"), None);
        assert_eq!(ImageFormat::sniff(b"<svg"), None);
    }
}
