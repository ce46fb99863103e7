#pragma once

// An SNMP agent in memory for the collector's deterministic tests: objects
// loaded from a recorded `snmpwalk -On -Oe -Ot` (test/snmp/data/*.walk) or
// set one by one, answers given before the call returns, and failures
// injected per subtree. Only for golden tests; the interop tests use a real
// snmpd and Keepalived.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "snmp/session.h"
#include "vrrp/result.h"

namespace vrrp::testing {

class FakeSnmpSession : public snmp::Session {
 public:
  // Parses snmpwalk's numeric output: `.OID = TYPE: value`, `.OID = ""`,
  // `.OID = 123` (TimeTicks with -Ot). Errors name the line.
  static Result<FakeSnmpSession, std::string> FromWalk(const std::string& text);
  static Result<FakeSnmpSession, std::string> FromWalkFile(
      const std::string& path);

  void Set(snmp::VarBind b) { objects_[b.oid] = std::move(b); }
  // Removes every object under `prefix`.
  void Remove(const snmp::Oid& prefix);
  // Walks under `prefix` (and GETs of OIDs under it) fail with `error`.
  void Fail(const snmp::Oid& prefix, snmp::SnmpError error) {
    failures_.emplace_back(prefix, std::move(error));
  }

  void Get(std::vector<snmp::Oid> oids, snmp::ReplyCallback done) override;
  void Walk(snmp::Oid column, snmp::ReplyCallback done) override;

  const std::vector<snmp::Oid>& walked() const { return walked_; }
  int gets() const { return gets_; }
  size_t max_get_size() const { return max_get_size_; }

 private:
  std::optional<snmp::SnmpError> FailureFor(const snmp::Oid& oid) const;

  std::map<snmp::Oid, snmp::VarBind> objects_;
  std::vector<std::pair<snmp::Oid, snmp::SnmpError>> failures_;
  std::vector<snmp::Oid> walked_;
  int gets_ = 0;
  size_t max_get_size_ = 0;
};

}  // namespace vrrp::testing
