#include "fakes/fake_snmp_session.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace vrrp::testing {
namespace {

using snmp::VarBind;
using snmp::VarType;

Result<VarBind, std::string> ParseLine(const std::string& line) {
  const size_t eq = line.find(" = ");
  if (eq == std::string::npos) return Err(std::string("no ' = '"));
  auto oid = snmp::ParseOid(line.substr(0, eq));
  if (!oid.ok()) return Err(oid.error());
  VarBind b;
  b.oid = std::move(*oid);
  std::string rest = line.substr(eq + 3);
  if (rest == "\"\"") {
    b.type = VarType::kOctetString;
    return b;
  }
  if (rest.rfind("No Such Object", 0) == 0) {
    b.type = VarType::kNoSuchObject;
    return b;
  }
  if (rest.rfind("No Such Instance", 0) == 0) {
    b.type = VarType::kNoSuchInstance;
    return b;
  }
  const size_t colon = rest.find(": ");
  std::string type = colon == std::string::npos ? "" : rest.substr(0, colon);
  std::string value =
      colon == std::string::npos ? rest : rest.substr(colon + 2);
  try {
    if (type.empty()) {  // -Ot: TimeTicks as a bare number
      b.type = VarType::kTimeTicks;
      b.number = std::stoll(value);
    } else if (type == "STRING") {
      b.type = VarType::kOctetString;
      if (value.size() < 2 || value.front() != '"' || value.back() != '"') {
        return Err(std::string("unquoted STRING"));
      }
      for (size_t i = 1; i + 1 < value.size(); ++i) {
        if (value[i] == '\\' && i + 2 < value.size()) ++i;
        b.bytes += value[i];
      }
    } else if (type == "Hex-STRING") {
      b.type = VarType::kOctetString;
      std::istringstream in(value);
      std::string byte;
      while (in >> byte) {
        b.bytes += static_cast<char>(std::stoi(byte, nullptr, 16));
      }
    } else if (type == "INTEGER") {
      b.type = VarType::kInteger;
      b.number = std::stoll(value);
    } else if (type == "Gauge32") {
      b.type = VarType::kGauge32;
      b.number = std::stoll(value);
    } else if (type == "Counter32") {
      b.type = VarType::kCounter32;
      b.number = std::stoll(value);
    } else if (type == "Counter64") {
      b.type = VarType::kCounter64;
      b.number = std::stoll(value);
    } else if (type == "Timeticks") {
      b.type = VarType::kTimeTicks;
      b.number = std::stoll(value.substr(value.find('(') + 1));
    } else if (type == "IpAddress") {
      b.type = VarType::kIpAddress;
      std::istringstream in(value);
      std::string part;
      while (std::getline(in, part, '.')) {
        b.bytes += static_cast<char>(std::stoi(part));
      }
    } else if (type == "OID") {
      b.type = VarType::kObjectId;
      b.bytes = value.front() == '.' ? value.substr(1) : value;
    } else {
      return Err("unknown type " + type);
    }
  } catch (const std::exception&) {
    return Err("bad value " + value);
  }
  return b;
}

}  // namespace

Result<FakeSnmpSession, std::string> FakeSnmpSession::FromWalk(
    const std::string& text) {
  FakeSnmpSession f;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  std::string pending;  // Hex-STRING values wrap onto following lines
  auto flush = [&]() -> std::optional<std::string> {
    if (pending.empty()) return std::nullopt;
    auto b = ParseLine(pending);
    if (!b.ok()) return "line " + std::to_string(n) + ": " + b.error();
    f.Set(std::move(*b));
    pending.clear();
    return std::nullopt;
  };
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (line.front() == '.') {
      if (auto e = flush()) return Err(*e);
      pending = line;
    } else {
      pending += " " + line;
    }
  }
  if (auto e = flush()) return Err(*e);
  return f;
}

Result<FakeSnmpSession, std::string> FakeSnmpSession::FromWalkFile(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) return Err(path + ": cannot be read");
  std::stringstream s;
  s << in.rdbuf();
  return FromWalk(s.str());
}

void FakeSnmpSession::Remove(const snmp::Oid& prefix) {
  for (auto it = objects_.begin(); it != objects_.end();) {
    it =
        snmp::HasPrefix(it->first, prefix) ? objects_.erase(it) : std::next(it);
  }
}

std::optional<snmp::SnmpError> FakeSnmpSession::FailureFor(
    const snmp::Oid& oid) const {
  for (const auto& [prefix, error] : failures_) {
    if (snmp::HasPrefix(oid, prefix)) return error;
  }
  return std::nullopt;
}

void FakeSnmpSession::Get(std::vector<snmp::Oid> oids,
                          snmp::ReplyCallback done) {
  ++gets_;
  max_get_size_ = std::max(max_get_size_, oids.size());
  snmp::VarBinds out;
  for (auto& o : oids) {
    if (auto e = FailureFor(o)) {
      done(Err(*e));
      return;
    }
    auto it = objects_.find(o);
    if (it != objects_.end()) {
      out.push_back(it->second);
    } else {
      // As an agent answers: noSuchInstance when the object's column has
      // other rows, noSuchObject otherwise (RFC 3416 §4.2.1).
      VarBind b;
      b.oid = o;
      b.type = VarType::kNoSuchObject;
      if (o.size() > 1) {
        snmp::Oid parent(o.begin(), o.end() - 1);
        auto next = objects_.upper_bound(parent);
        if (next != objects_.end() && snmp::HasPrefix(next->first, parent)) {
          b.type = VarType::kNoSuchInstance;
        }
      }
      out.push_back(std::move(b));
    }
  }
  done(std::move(out));
}

void FakeSnmpSession::Walk(snmp::Oid column, snmp::ReplyCallback done) {
  walked_.push_back(column);
  if (auto e = FailureFor(column)) {
    done(Err(*e));
    return;
  }
  snmp::VarBinds out;
  for (auto it = objects_.upper_bound(column);
       it != objects_.end() && snmp::HasPrefix(it->first, column); ++it) {
    out.push_back(it->second);
  }
  done(std::move(out));
}

}  // namespace vrrp::testing
