//! Injected failures for client tests.

use std::time::Duration;

/// A failure the simulator injects into the next gateway request.
///
/// Faults queue up with [`Handle::push_fault`](crate::Handle::push_fault);
/// each `POST` to the gateway path takes the oldest one. Requests to other
/// paths and rejected requests (400, 413, 431) take none.
///
/// [`Fault::Html`], [`Fault::Empty`] and [`Fault::Close`] stand for failures
/// in front of the gateway, so the request is not processed: no session is
/// created or renewed. The other faults change how a normally processed
/// response travels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Responds with this HTTP status and a Cloudflare-style HTML error page
    /// (`Content-Type: text/html`), as the CDN in front of the gateway does
    /// for 502, 503, 504 and 524.
    Html(u16),
    /// Responds with this HTTP status and an empty body (`Content-Length: 0`).
    Empty(u16),
    /// Processes the request, sends the head with the full `Content-Length`,
    /// then only the first half of the body, then closes the connection.
    Truncated,
    /// Waits this long, then processes the request and responds normally.
    /// Shutting the simulator down ends the wait early.
    Delay(Duration),
    /// Responds normally but with `Transfer-Encoding: chunked`, with chunk
    /// sizes from 1 to 64 bytes drawn from `seed`, flushing after each chunk.
    Chunked {
        /// Seed of the chunk size sequence; the same seed gives the same sizes.
        seed: u64,
    },
    /// Responds normally with an extra `X-Simulator-Padding` header whose
    /// value is this many bytes long.
    OversizedHeaders(usize),
    /// Reads the request, then closes the connection without a response.
    Close,
}

/// A small deterministic generator (SplitMix64) for chunk sizes.
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a value in `1..=max`; `max` of 0 counts as 1.
    pub(crate) fn next_in_one_to(&mut self, max: usize) -> usize {
        let max = max.max(1) as u64;
        (self.next_u64() % max) as usize + 1
    }
}

/// Returns the reason phrase for a status code the simulator sends.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        520 => "Web Server Returned an Unknown Error",
        521 => "Web Server Is Down",
        522 => "Connection Timed Out",
        523 => "Origin Is Unreachable",
        524 => "A Timeout Occurred",
        _ => "Error",
    }
}

/// Builds a Cloudflare-style error page for `status`, with `ray_id` in place
/// of the CDN's request id. Like the CDN's own pages, which carry their
/// styles inline, it is larger than 4 KiB, so clients meet an error page
/// bigger than a small body buffer.
pub(crate) fn cdn_error_page(status: u16, ray_id: &str) -> String {
    let style: String = (0..96)
        .map(|i| format!("#cf-wrapper .cf-rule-{i:02} {{ margin: 0 0 1em; line-height: 1.5; }}\n"))
        .collect();
    let title = reason_phrase(status);
    let explanation = match status {
        502 => "The web server reported a bad gateway error.",
        503 => "The web server is temporarily unavailable.",
        504 => "The web server reported a gateway time-out error.",
        524 => "The origin web server timed out responding to this request.",
        _ => "The web server returned an error.",
    };
    format!(
        "<!DOCTYPE html>\n\
         <html lang=\"en-US\">\n\
         <head>\n\
         <meta charset=\"UTF-8\" />\n\
         <title>api.intacct.com | {status}: {title}</title>\n\
         <style>\n{style}</style>\n\
         </head>\n\
         <body>\n\
         <div id=\"cf-wrapper\">\n\
         <div id=\"cf-error-details\">\n\
         <h1><span>{title}</span> <span>Error code {status}</span></h1>\n\
         <p>{explanation}</p>\n\
         <p>Visit <a href=\"https://www.cloudflare.com/\">cloudflare.com</a> for more information.</p>\n\
         <p>Cloudflare Ray ID: <strong>{ray_id}</strong></p>\n\
         <p>This page was sent by intacct-simulator as an injected fault.</p>\n\
         </div>\n\
         </div>\n\
         </body>\n\
         </html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_deterministic_and_bounded() {
        let mut first = SplitMix64::new(7);
        let mut second = SplitMix64::new(7);
        for _ in 0..1000 {
            let value = first.next_in_one_to(64);
            assert_eq!(value, second.next_in_one_to(64));
            assert!((1..=64).contains(&value), "{value}");
        }
        assert_eq!(SplitMix64::new(1).next_in_one_to(0), 1);
    }

    #[test]
    fn error_page_names_status() {
        let page = cdn_error_page(524, "abc");
        assert!(page.contains("Error code 524"), "{page}");
        assert!(page.contains("A Timeout Occurred"), "{page}");
    }
}
