#pragma once

// Secrets never leave the process in text we write: configuration errors,
// log lines, /api/v1/status, the landing page, --config.check. Everything on
// those paths passes through RedactSecrets, which masks what a secret looks
// like rather than a list of known values, so a secret in a file that was
// rejected (and so never parsed into a list) is masked too.

#include <string>
#include <string_view>

namespace vrrp {

inline constexpr std::string_view kRedacted = "<redacted>";

// Returns `text` with these replaced by kRedacted:
//  - the user information of URLs: "ftp://user:pw@host/" ->
//  "ftp://<redacted>@host/";
//  - credentials after an HTTP authorization scheme: "Bearer abc.def",
//    "Basic dXNlcjpwdw==" (tokens of 8 characters or more, so prose such as
//    "basic auth" is kept);
//  - values of secret-looking keys (an identifier containing password,
//    passwd, secret, token, community, api_key/apikey, credential, or ending
//    in pass, such as auth_pass): "key=value", "key: \"value\"",
//    "\"key\": \"value\"", and, for configuration errors of the form
//    "FIELD: message ... got \"value\"", every quoted string after the key.
std::string RedactSecrets(std::string_view text);

}  // namespace vrrp
