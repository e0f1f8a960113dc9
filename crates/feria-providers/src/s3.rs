//! An S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, DigitalOcean Spaces…): put and delete
//! objects, signed with AWS Signature Version 4 and addressed path-style
//! (`{endpoint}/{bucket}/{key}`), which every S3-compatible service accepts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Where the bucket is and how to sign for it. `Debug` hides the secret key.
#[derive(Clone)]
pub struct S3Settings {
    /// Base URL of the service, e.g. `https://s3.us-east-1.amazonaws.com` or `http://127.0.0.1:9000`.
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Base URL under which stored objects are publicly readable (a CDN, or the bucket URL).
    pub public_url: String,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// Why a bucket operation failed.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("object storage unreachable: {0}")]
    Unreachable(#[from] reqwest::Error),
    /// The service answered with an error (S3's XML `<Code>`, or the bare status).
    #[error("object storage answered {status}: {code}")]
    Rejected { status: u16, code: String },
}

/// A client for one bucket.
pub struct S3Bucket {
    settings: S3Settings,
    http: reqwest::Client,
}

/// The SHA-256 of an empty payload, as S3 wants it for bodiless requests.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

impl S3Bucket {
    pub fn new(settings: S3Settings) -> Result<S3Bucket, S3Error> {
        let http = crate::http::client(Duration::from_secs(30))?;
        Ok(S3Bucket { settings, http })
    }

    /// The public URL of the object `key`.
    pub fn public_url(&self, key: &str) -> String {
        format!("{}/{}", self.settings.public_url.trim_end_matches('/'), encode_path(key))
    }

    /// Stores `body` under `key`, replacing any object there.
    pub async fn put(&self, key: &str, content_type: &str, body: Vec<u8>) -> Result<(), S3Error> {
        let payload_hash = hex::encode(Sha256::digest(&body));
        let request = self.http.put(self.object_url(key)).header("content-type", content_type);
        let request = self.sign(request, "PUT", key, &[("content-type", content_type)], &payload_hash, Utc::now());
        check(request.body(body).send().await?).await
    }

    /// Deletes the object `key`; an object already gone is not an error (S3 answers 204 either way).
    pub async fn delete(&self, key: &str) -> Result<(), S3Error> {
        let request = self.sign(self.http.delete(self.object_url(key)), "DELETE", key, &[], EMPTY_SHA256, Utc::now());
        match check(request.send().await?).await {
            Err(S3Error::Rejected { status: 404, .. }) => Ok(()),
            other => other,
        }
    }

    fn object_path(&self, key: &str) -> String {
        format!("/{}/{}", encode_path(&self.settings.bucket), encode_path(key))
    }

    fn object_url(&self, key: &str) -> String {
        format!("{}{}", self.settings.endpoint.trim_end_matches('/'), self.object_path(key))
    }

    /// Adds the date, payload hash and `Authorization` headers to `request`.
    fn sign(
        &self,
        request: reqwest::RequestBuilder,
        method: &str,
        key: &str,
        extra_headers: &[(&str, &str)],
        payload_hash: &str,
        now: DateTime<Utc>,
    ) -> reqwest::RequestBuilder {
        let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), host_of(&self.settings.endpoint)),
            ("x-amz-content-sha256".into(), payload_hash.into()),
            ("x-amz-date".into(), amz_date.clone()),
        ];
        headers.extend(extra_headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let signed = SignedRequest {
            method,
            path: &self.object_path(key),
            query: "",
            headers: &headers,
            payload_hash,
            amz_date: &amz_date,
            region: &self.settings.region,
        };
        let authorization = signed.authorization(&self.settings.access_key_id, &self.settings.secret_access_key);
        request.header("x-amz-content-sha256", payload_hash).header("x-amz-date", amz_date).header("authorization", authorization)
    }
}

async fn check(response: reqwest::Response) -> Result<(), S3Error> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    let code = xml_element(&body, "Code").unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    Err(S3Error::Rejected { status: status.as_u16(), code })
}

/// The text of the first `<name>…</name>` in `xml`.
fn xml_element(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(xml[start..end].to_string())
}

/// `host[:port]` of a base URL, as the HTTP client sends it in the `Host` header.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    let default_port = if url.starts_with("https://") { ":443" } else { ":80" };
    authority.strip_suffix(default_port).unwrap_or(authority).to_string()
}

/// URI-encodes a path as SigV4 wants it: every byte but `A-Za-z0-9-_.~` and `/` as `%XX`.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// What AWS Signature Version 4 signs for one S3 request.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// The URI-encoded path.
    pub path: &'a str,
    /// The canonical (sorted, encoded) query string; empty for object puts and deletes.
    pub query: &'a str,
    /// Every signed header, lower-case names.
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the body.
    pub payload_hash: &'a str,
    /// `YYYYMMDDTHHMMSSZ`.
    pub amz_date: &'a str,
    pub region: &'a str,
}

impl SignedRequest<'_> {
    /// The `Authorization` header value.
    pub fn authorization(&self, access_key_id: &str, secret_access_key: &str) -> String {
        let mut headers: Vec<(String, String)> =
            self.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.split_whitespace().collect::<Vec<_>>().join(" "))).collect();
        headers.sort();
        let signed_headers = headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
        let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let canonical_request =
            format!("{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{}", self.method, self.path, self.query, self.payload_hash);
        let date = &self.amz_date[..8];
        let scope = format!("{date}/{}/s3/aws4_request", self.region);
        let string_to_sign = format!("AWS4-HMAC-SHA256\n{}\n{scope}\n{}", self.amz_date, hex::encode(Sha256::digest(canonical_request)));
        let mut key = hmac(format!("AWS4{secret_access_key}").as_bytes(), date.as_bytes());
        for part in [self.region, "s3", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
        format!("AWS4-HMAC-SHA256 Credential={access_key_id}/{scope},SignedHeaders={signed_headers},Signature={signature}")
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// AWS's own examples ("Signature Calculations for the Authorization Header", S3 API reference).
    #[test]
    fn matches_the_aws_documented_examples() {
        let get = SignedRequest {
            method: "GET",
            path: "/test.txt",
            query: "",
            headers: &headers(&[
                ("Host", "examplebucket.s3.amazonaws.com"),
                ("Range", "bytes=0-9"),
                ("x-amz-content-sha256", EMPTY_SHA256),
                ("x-amz-date", "20130524T000000Z"),
            ]),
            payload_hash: EMPTY_SHA256,
            amz_date: "20130524T000000Z",
            region: "us-east-1",
        };
        assert_eq!(
            get.authorization(KEY_ID, SECRET),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,\
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );

        let body_hash = hex::encode(Sha256::digest("Welcome to Amazon S3."));
        let put = SignedRequest {
            method: "PUT",
            path: &encode_path("/test$file.text"),
            query: "",
            headers: &headers(&[
                ("Host", "examplebucket.s3.amazonaws.com"),
                ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                ("x-amz-date", "20130524T000000Z"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ("x-amz-content-sha256", &body_hash),
            ]),
            payload_hash: &body_hash,
            amz_date: "20130524T000000Z",
            region: "us-east-1",
        };
        assert!(
            put.authorization(KEY_ID, SECRET).ends_with("Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
            "{}",
            put.authorization(KEY_ID, SECRET)
        );
    }

    #[test]
    fn hosts_paths_and_errors() {
        assert_eq!(host_of("http://127.0.0.1:9000"), "127.0.0.1:9000");
        assert_eq!(host_of("https://s3.us-east-1.amazonaws.com:443/"), "s3.us-east-1.amazonaws.com");
        assert_eq!(encode_path("products/a b+ñ.jpg"), "products/a%20b%2B%C3%B1.jpg");
        assert_eq!(xml_element("<Error><Code>AccessDenied</Code></Error>", "Code").as_deref(), Some("AccessDenied"));
        assert_eq!(xml_element("nope", "Code"), None);
    }
}
