#include "vrrp/redact.h"

#include <array>
#include <cstddef>

namespace vrrp {

namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Characters a URL's scheme may hold (RFC 3986 §3.1).
bool IsSchemeChar(char c) { return IsIdentChar(c) || c == '+' || c == '.'; }

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Characters of a token68 (RFC 7235 §2.1) or of an opaque bearer token.
bool IsTokenChar(char c) {
  return IsIdentChar(c) || c == '.' || c == '~' || c == '+' || c == '/' ||
         c == '=';
}

std::string LowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool IsSecretKey(std::string_view identifier) {
  const std::string id = LowerCopy(identifier);
  static constexpr std::array<std::string_view, 8> kContains = {
      "password",  "passwd",  "secret", "token",
      "community", "api_key", "apikey", "credential"};
  for (std::string_view word : kContains) {
    if (id.find(word) != std::string::npos) return true;
  }
  return id == "pass" || (id.size() > 5 && id.ends_with("_pass"));
}

// "scheme://userinfo@host": the userinfo goes.
std::string RedactUrls(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t sep = text.find("://", i);
    if (sep == std::string_view::npos) break;
    // A scheme must precede it.
    size_t scheme = sep;
    while (scheme > i && IsSchemeChar(text[scheme - 1])) --scheme;
    const size_t authority = sep + 3;
    size_t end = authority;
    while (end < text.size() && !IsSpace(text[end]) && text[end] != '/' &&
           text[end] != '?' && text[end] != '#' && text[end] != '"' &&
           text[end] != '\'' && text[end] != '>' && text[end] != '<') {
      ++end;
    }
    const size_t at = text.substr(authority, end - authority).rfind('@');
    out.append(text.substr(i, authority - i));
    if (scheme < sep && at != std::string_view::npos) {
      out.append(kRedacted);
      i = authority + at;  // from the '@'
    } else {
      i = authority;
    }
  }
  out.append(text.substr(i));
  return out;
}

// "Bearer TOKEN", "Basic TOKEN68".
std::string RedactAuthSchemes(std::string_view text) {
  std::string out;
  size_t i = 0;
  const std::string lower = LowerCopy(text);
  while (i < text.size()) {
    size_t best = std::string::npos, len = 0;
    for (std::string_view scheme :
         {std::string_view("bearer "), std::string_view("basic ")}) {
      const size_t pos = lower.find(scheme, i);
      if (pos < best) best = pos, len = scheme.size();
    }
    if (best == std::string::npos) break;
    size_t start = best + len;
    while (start < text.size() && text[start] == ' ') ++start;
    size_t end = start;
    while (end < text.size() && IsTokenChar(text[end])) ++end;
    const bool word_start = best == 0 || !IsIdentChar(text[best - 1]);
    out.append(text.substr(i, start - i));
    if (word_start && end - start >= 8) {
      out.append(kRedacted);
      i = end;
    } else {
      i = start;
    }
  }
  out.append(text.substr(i));
  return out;
}

// Appends a quoted string starting at text[q] (a quote) to `out` as the
// quote, kRedacted, the closing quote; returns the index after it.
size_t RedactQuoted(std::string_view text, size_t q, std::string* out) {
  const char quote = text[q];
  size_t end = q + 1;
  while (end < text.size() && text[end] != quote) {
    if (text[end] == '\\' && end + 1 < text.size()) ++end;
    ++end;
  }
  out->push_back(quote);
  out->append(kRedacted);
  if (end < text.size()) out->push_back(quote);
  return end < text.size() ? end + 1 : end;
}

std::string RedactKeyValues(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (!IsIdentChar(text[i]) || (i > 0 && IsIdentChar(text[i - 1]))) {
      out.push_back(text[i++]);
      continue;
    }
    size_t end = i;
    while (end < text.size() && IsIdentChar(text[end])) ++end;
    const std::string_view key = text.substr(i, end - i);
    out.append(key);
    i = end;
    if (!IsSecretKey(key)) continue;
    size_t j = i;
    if (j < text.size() && (text[j] == '"' || text[j] == '\'')) ++j;
    while (j < text.size() && text[j] == ' ') ++j;
    if (j >= text.size() || (text[j] != '=' && text[j] != ':')) continue;
    const bool equals = text[j] == '=';
    ++j;
    while (j < text.size() && text[j] == ' ') ++j;
    out.append(text.substr(i, j - i));
    i = j;
    if (i < text.size() && (text[i] == '"' || text[i] == '\'')) {
      i = RedactQuoted(text, i, &out);
    } else if (equals) {
      size_t v = i;
      while (v < text.size() && !IsSpace(text[v]) && text[v] != '&' &&
             text[v] != ';' && text[v] != ',' && text[v] != ')') {
        ++v;
      }
      if (v > i) out.append(kRedacted);
      i = v;
    } else {
      // "FIELD: message": a configuration error about a secret field; its
      // quoted values (", got \"...\"") are the secret or part of it.
      while (i < text.size() && text[i] != '\n') {
        if (text[i] == '"' || text[i] == '\'') {
          i = RedactQuoted(text, i, &out);
        } else {
          out.push_back(text[i++]);
        }
      }
    }
  }
  return out;
}

}  // namespace

std::string RedactSecrets(std::string_view text) {
  return RedactKeyValues(RedactAuthSchemes(RedactUrls(text)));
}

}  // namespace vrrp
