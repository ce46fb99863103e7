#pragma once

// One SNMP agent as the collectors see it: GET some objects, or walk one
// column with GETBULK. Asynchronous: each call returns at once and its
// callback runs later on the SNMP thread (the net-snmp implementation,
// netsnmp_engine.h) or before the call returns (FakeSnmpSession in tests),
// so a collector can have every column of a target in flight at once.
//
// Nothing is cached between scrapes: a session serves one probe.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "snmp/oid.h"
#include "vrrp/result.h"

namespace vrrp::snmp {

// The ASN.1 / SMIv2 types an agent answers with (RFC 3416 §3), and the three
// exceptions of SNMPv2 (noSuchObject and noSuchInstance from GET,
// endOfMibView from GETNEXT/GETBULK).
enum class VarType : uint8_t {
  kInteger,
  kOctetString,
  kObjectId,
  kIpAddress,
  kCounter32,
  kGauge32,
  kTimeTicks,
  kCounter64,
  kNull,
  kNoSuchObject,
  kNoSuchInstance,
  kEndOfMibView,
  kOther,
};

struct VarBind {
  Oid oid;
  VarType type = VarType::kNull;
  // Every numeric type (INTEGER is signed, the others unsigned).
  int64_t number = 0;
  std::string bytes;  // OCTET STRING and IpAddress, raw

  bool IsException() const {
    return type == VarType::kNoSuchObject || type == VarType::kNoSuchInstance ||
           type == VarType::kEndOfMibView;
  }
};

// Why a request failed, as the keepalived_scrape_errors_total{reason} label.
enum class ErrorReason : uint8_t {
  kTimeout,         // no answer within timeout x (retries + 1)
  kAuthentication,  // SNMPv3 USM: unknown user, wrong keys (RFC 3414 §3.2)
  kNoSuchObject,    // the agent has no such subtree (Keepalived not attached)
  kMalformed,       // an answer we cannot use: error-status, bad types,
                    // non-increasing OIDs
  kSend,            // the request could not be sent (resolution, socket)
};
inline constexpr int kErrorReasonCount = 5;
std::string_view ToString(ErrorReason reason);

struct SnmpError {
  ErrorReason reason = ErrorReason::kMalformed;
  std::string message;  // never contains a community or key
};

using VarBinds = std::vector<VarBind>;
using Reply = Result<VarBinds, SnmpError>;
using ReplyCallback = std::function<void(Reply)>;

class Session {
 public:
  virtual ~Session() = default;
  // One GET of `oids`; the reply holds one varbind per OID, in order
  // (exceptions included: the caller decides what noSuchObject means).
  virtual void Get(std::vector<Oid> oids, ReplyCallback done) = 0;
  // Every object under `column`, in order: GETBULK requests until an OID
  // leaves the prefix or endOfMibView.
  virtual void Walk(Oid column, ReplyCallback done) = 0;
};

}  // namespace vrrp::snmp
