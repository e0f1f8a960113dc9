//! Stored files (product images): a local directory served under `/uploads/`, or an
//! S3-compatible bucket.

use std::path::PathBuf;

use feria_providers::s3::{S3Bucket, S3Error};

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

    fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
            ImageFormat::WebP => "image/webp",
            ImageFormat::Gif => "image/gif",
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

/// Formats stored as attachments of a broadcast: the images above and PDF documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Image(ImageFormat),
    Pdf,
}

impl FileFormat {
    /// The format `bytes` start with, if it is one feria stores.
    pub fn sniff(bytes: &[u8]) -> Option<FileFormat> {
        if bytes.starts_with(b"%PDF-") { Some(FileFormat::Pdf) } else { ImageFormat::sniff(bytes).map(FileFormat::Image) }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FileFormat::Image(image) => image.content_type(),
            FileFormat::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Image(image) => image.extension(),
            FileFormat::Pdf => "pdf",
        }
    }
}

/// A stored file: its key (for deletion) and public URL.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub key: String,
    pub url: String,
}

/// Why a file could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("local file store: {0}")]
    Local(#[from] std::io::Error),
    #[error("{0}")]
    Bucket(#[from] S3Error),
}

/// Where stored files live: a local directory served by feria under `/uploads/`, or an
/// S3-compatible bucket (when `AWS_S3_BUCKET` is set) that serves them itself.
pub enum FileStore {
    Local(PathBuf),
    Bucket(S3Bucket),
}

/// URL path under which locally stored files are served.
pub const PUBLIC_PREFIX: &str = "/uploads";

impl FileStore {
    /// Stores a file under a new unique name inside `folder` (e.g. `products`).
    pub async fn put(&self, folder: &str, format: FileFormat, bytes: &[u8]) -> Result<StoredFile, FileError> {
        let key = format!("{folder}/{}.{}", feria_domain::ids::new_id(), format.extension());
        match self {
            FileStore::Local(dir) => {
                let path = dir.join(&key);
                if let Some(parent) = path.parent() {
                    tokio::fs::create_dir_all(parent).await?;
                }
                tokio::fs::write(&path, bytes).await?;
                Ok(StoredFile { url: format!("{PUBLIC_PREFIX}/{key}"), key })
            }
            FileStore::Bucket(bucket) => {
                bucket.put(&key, format.content_type(), bytes.to_vec()).await?;
                Ok(StoredFile { url: bucket.public_url(&key), key })
            }
        }
    }

    /// Stores every file of `files` in `folder`; on a failure removes those already stored.
    pub async fn put_all(&self, folder: &str, files: &[(FileFormat, &[u8])]) -> Result<Vec<StoredFile>, FileError> {
        let mut stored = Vec::with_capacity(files.len());
        for (format, bytes) in files {
            match self.put(folder, *format, bytes).await {
                Ok(file) => stored.push(file),
                Err(e) => {
                    self.delete_all(&stored).await;
                    return Err(e);
                }
            }
        }
        Ok(stored)
    }

    /// Deletes every file of `files` (see [`FileStore::delete`]).
    pub async fn delete_all(&self, files: &[StoredFile]) {
        for file in files {
            self.delete(&file.key).await;
        }
    }

    /// Deletes a stored file; a file already gone is not an error, and a failure is only logged
    /// (the file is orphaned, nothing else is affected).
    pub async fn delete(&self, key: &str) {
        if key.split('/').any(|part| part == ".." || part.is_empty()) {
            return;
        }
        let result = match self {
            FileStore::Local(dir) => match tokio::fs::remove_file(dir.join(key)).await {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other.map_err(FileError::from),
            },
            FileStore::Bucket(bucket) => bucket.delete(key).await.map_err(FileError::from),
        };
        if let Err(e) = result {
            tracing::warn!(%key, error = %e, "could not delete a stored file");
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
        assert_eq!(FileFormat::sniff(b"%PDF-1.4"), Some(FileFormat::Pdf));
        assert_eq!(FileFormat::sniff(b"GIF89a.."), Some(FileFormat::Image(ImageFormat::Gif)));
        assert_eq!(FileFormat::sniff(b"<html>"), None);
    }
}
