#include "vrrp/redact.h"

#include <gtest/gtest.h>

namespace vrrp {
namespace {

TEST(RedactTest, UrlUserInformation) {
  EXPECT_EQ(
      RedactSecrets("webhooks[0].url: must start with http:// or https://, got "
                    "\"ftp://user:password@203.0.113.5/x\""),
      "webhooks[0].url: must start with http:// or https://, got "
      "\"ftp://<redacted>@203.0.113.5/x\"");
  EXPECT_EQ(RedactSecrets("GET https://tok@example.com/a?b=1 failed"),
            "GET https://<redacted>@example.com/a?b=1 failed");
  // No userinfo: unchanged, and an '@' in the path is not userinfo.
  EXPECT_EQ(RedactSecrets("http://198.51.100.1:80/a@b"),
            "http://198.51.100.1:80/a@b");
}

TEST(RedactTest, AuthorizationSchemes) {
  EXPECT_EQ(RedactSecrets("Authorization: Bearer eyJhbGciOi.abc-def"),
            "Authorization: Bearer <redacted>");
  EXPECT_EQ(RedactSecrets("header: Basic dXNlcjpwYXNzd29yZA=="),
            "header: Basic <redacted>");
  EXPECT_EQ(RedactSecrets("basic auth is on"), "basic auth is on");
}

TEST(RedactTest, SecretKeys) {
  EXPECT_EQ(RedactSecrets("snmp://h?community=s3cr3t&x=1"),
            "snmp://h?community=<redacted>&x=1");
  EXPECT_EQ(RedactSecrets("{\"password\": \"hunter2\", \"user\": \"bob\"}"),
            "{\"password\": \"<redacted>\", \"user\": \"bob\"}");
  EXPECT_EQ(RedactSecrets("bearer_token='abc'"), "bearer_token='<redacted>'");
  EXPECT_EQ(RedactSecrets("c.yml:3:5: instances[0].auth_pass: must be at most "
                          "8 bytes, got \"longsecret99\" (12)"),
            "c.yml:3:5: instances[0].auth_pass: must be at most 8 bytes, got "
            "\"<redacted>\" (12)");
  // Other fields keep their quoted values.
  EXPECT_EQ(RedactSecrets("instances[0].name: got \"vip1\""),
            "instances[0].name: got \"vip1\"");
  EXPECT_EQ(RedactSecrets("passive: got \"x\""), "passive: got \"x\"");
}

}  // namespace
}  // namespace vrrp
