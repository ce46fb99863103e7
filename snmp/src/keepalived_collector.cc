#include "snmp/keepalived_collector.h"

#include <arpa/inet.h>

#include <map>
#include <mutex>

#include "snmp/keepalived_mib.h"

namespace vrrp::snmp {
namespace {

using namespace mib;

Oid Col(const Oid& entry, uint32_t column) { return Append(entry, {column}); }

// The rows of one column, by index (the OID after the column).
using ColumnRows = std::map<Oid, const VarBind*>;

class Joiner {
 public:
  explicit Joiner(KeepalivedScrape& out) : out_(out) {}

  void Count(ErrorReason r, const std::string& message) {
    ++out_.errors[static_cast<size_t>(r)];
    if (out_.first_error.empty()) out_.first_error = message;
  }

  void Index(const KeepalivedWalks& w) {
    for (const auto& [col, reply] : w.columns) {
      ++out_.walks;
      if (!reply.ok()) {
        Count(reply.error().reason,
              "walk " + ToString(col) + ": " + reply.error().message);
        continue;
      }
      ColumnRows& rows = columns_[col];
      for (const VarBind& b : reply.value()) {
        ++out_.varbinds;
        rows[Suffix(b.oid, col)] = &b;
      }
    }
  }

  const ColumnRows& Rows(const Oid& entry, uint32_t column) {
    static const ColumnRows kEmpty;
    auto it = columns_.find(Col(entry, column));
    return it == columns_.end() ? kEmpty : it->second;
  }

  const VarBind* Cell(const Oid& entry, uint32_t column, const Oid& index) {
    const ColumnRows& r = Rows(entry, column);
    auto it = r.find(index);
    return it == r.end() ? nullptr : it->second;
  }

  // A cell of the expected type, or nothing (a wrong type is counted as a
  // malformed answer: the row's other cells are still used).
  std::optional<int64_t> Number(const Oid& entry, uint32_t column,
                                const Oid& index) {
    const VarBind* b = Cell(entry, column, index);
    if (b == nullptr) return std::nullopt;
    switch (b->type) {
      case VarType::kInteger:
      case VarType::kCounter32:
      case VarType::kGauge32:
      case VarType::kTimeTicks:
      case VarType::kCounter64:
        return b->number;
      default:
        Count(ErrorReason::kMalformed,
              ToString(b->oid) + ": expected a number");
        return std::nullopt;
    }
  }
  std::optional<std::string> String(const Oid& entry, uint32_t column,
                                    const Oid& index) {
    const VarBind* b = Cell(entry, column, index);
    if (b == nullptr) return std::nullopt;
    if (b->type != VarType::kOctetString) {
      Count(ErrorReason::kMalformed, ToString(b->oid) + ": expected a string");
      return std::nullopt;
    }
    return b->bytes;
  }

 private:
  KeepalivedScrape& out_;
  std::map<Oid, ColumnRows> columns_;
};

// ipaddresstos() in keepalived/vrrp/vrrp_ipaddress.c: the prefix length
// only when it is not a host route.
std::optional<std::string> AddressText(const std::string& raw,
                                       std::optional<int64_t> len) {
  char buf[INET6_ADDRSTRLEN] = {};
  int full = 0;
  if (raw.size() == 4) {
    inet_ntop(AF_INET, raw.data(), buf, sizeof buf);
    full = 32;
  } else if (raw.size() == 16) {
    inet_ntop(AF_INET6, raw.data(), buf, sizeof buf);
    full = 128;
  } else {
    return std::nullopt;
  }
  std::string s = buf;
  if (len && *len != full) s += "/" + std::to_string(*len);
  return s;
}

}  // namespace

namespace {

// Round 2: the cells read by GET, per table: the table's entry, the column
// whose walk gave the indexes, and the other columns.
struct TablePlan {
  const Oid* entry;
  uint32_t index_column;
  std::vector<uint32_t> columns;
};

const std::vector<TablePlan>& Plans() {
  static const std::vector<TablePlan> kPlans = {
      {&kInstanceEntry,
       kInstanceName,
       {kInstanceVrid, kInstanceState, kInstanceBasePriority,
        kInstanceEffectivePriority, kInstancePrimaryInterface,
        kInstanceAdvertInterval, kInstancePreempt, kInstanceSyncGroup,
        kInstanceVersion}},
      {&kAddressEntry,
       kAddressValue,
       {kAddressMask, kAddressIfIndex, kAddressIfName, kAddressStatus}},
      {&kScriptEntry, kScriptName, {kScriptResult}},
      {&kSyncGroupEntry, kSyncGroupName, {kSyncGroupState}},
      {&kV3OperationsEntry, kV3AddrCount, {}},
      // Same index as the operations table (ifIndex.vrid.addrType).
      {&kV3StatisticsEntry,
       kV3AddrCount,
       {kV3MasterTransitions, kV3RcvdAdvertisements, kV3AdvIntervalErrors,
        kV3IpTtlErrors, kV3RcvdPriZeroPackets, kV3SentPriZeroPackets,
        kV3RcvdInvalidTypePackets, kV3AddressListErrors,
        kV3PacketLengthErrors}},
  };
  return kPlans;
}

}  // namespace

std::vector<Oid> KeepalivedIndexColumns() {
  std::vector<Oid> c;
  for (const TablePlan& p : Plans()) {
    if (p.entry == &kV3StatisticsEntry) continue;  // walked as operations
    c.push_back(Col(*p.entry, p.index_column));
  }
  return c;
}

KeepalivedScrape JoinKeepalived(const KeepalivedWalks& w) {
  KeepalivedScrape out;
  Joiner j(out);
  if (!w.version.has_value()) {
    j.Count(ErrorReason::kMalformed, "no answer to the version GET");
    return out;
  }
  if (!w.version->ok()) {
    j.Count(w.version->error().reason,
            "GET version.0: " + w.version->error().message);
    return out;
  }
  const VarBinds& v = w.version->value();
  if (v.size() != 1) {
    j.Count(ErrorReason::kMalformed, "GET version.0: wrong varbind count");
    return out;
  }
  if (v[0].type == VarType::kNoSuchObject ||
      v[0].type == VarType::kNoSuchInstance) {
    // snmpd answers, but no Keepalived is registered under K.
    j.Count(ErrorReason::kNoSuchObject,
            "Keepalived is not attached to this agent (noSuchObject)");
    return out;
  }
  if (v[0].type != VarType::kOctetString) {
    j.Count(ErrorReason::kMalformed, "GET version.0: not a string");
    return out;
  }
  out.up = true;
  out.version = v[0].bytes;
  j.Index(w);

  // Instances, by their row index.
  std::map<uint32_t, size_t> by_index;
  for (const auto& [idx, b] : j.Rows(kInstanceEntry, kInstanceName)) {
    if (idx.size() != 1 || b->type != VarType::kOctetString) {
      j.Count(ErrorReason::kMalformed, ToString(b->oid) + ": bad instance row");
      continue;
    }
    KeepalivedInstance in;
    in.index = idx[0];
    in.name = b->bytes;
    const auto vrid = j.Number(kInstanceEntry, kInstanceVrid, idx);
    const auto state = j.Number(kInstanceEntry, kInstanceState, idx);
    if (!vrid || !state) {
      // Without these the series would lie; the row is left out.
      j.Count(ErrorReason::kMalformed,
              "instance " + in.name + ": no VRID or state");
      continue;
    }
    in.vrid = static_cast<uint32_t>(*vrid);
    in.state = static_cast<int>(*state);
    in.base_priority = static_cast<int>(
        j.Number(kInstanceEntry, kInstanceBasePriority, idx).value_or(0));
    in.effective_priority = static_cast<int>(
        j.Number(kInstanceEntry, kInstanceEffectivePriority, idx)
            .value_or(in.base_priority));
    in.interface =
        j.String(kInstanceEntry, kInstancePrimaryInterface, idx).value_or("");
    in.version = static_cast<int>(
        j.Number(kInstanceEntry, kInstanceVersion, idx).value_or(0));
    if (auto a = j.Number(kInstanceEntry, kInstanceAdvertInterval, idx)) {
      // KEEPALIVED-MIB: seconds for VRRPv2, centiseconds for VRRPv3.
      in.advert_interval_seconds = in.version == 3
                                       ? static_cast<double>(*a) / 100.0
                                       : static_cast<double>(*a);
    }
    if (auto p = j.Number(kInstanceEntry, kInstancePreempt, idx)) {
      in.preempt = *p == 1;
    }
    in.sync_group =
        j.String(kInstanceEntry, kInstanceSyncGroup, idx).value_or("");
    by_index[in.index] = out.instances.size();
    out.instances.push_back(std::move(in));
  }

  // VRRPv3 rows (ifIndex.vrid.addrType) joined to instances. The ifIndex is
  // from Keepalived's namespace and the MIB has no instance name, so the
  // match is by VRID and family, narrowed by the ifIndex of the instance's
  // addresses when two instances share a VRID.
  struct V3Row {
    uint32_t ifindex, vrid, type;
  };
  std::map<uint32_t, std::vector<uint32_t>> vip_ifindexes;  // inst -> ifIdx
  std::map<uint32_t, int> families;                         // inst -> 1/2
  for (const auto& [idx, b] : j.Rows(kAddressEntry, kAddressIfIndex)) {
    if (idx.size() == 2 && b->type == VarType::kInteger) {
      vip_ifindexes[idx[0]].push_back(static_cast<uint32_t>(b->number));
    }
  }
  for (const auto& [idx, b] : j.Rows(kAddressEntry, kAddressValue)) {
    if (idx.size() == 2 && b->type == VarType::kOctetString) {
      families[idx[0]] = b->bytes.size() == 16 ? 2 : 1;
    }
  }
  auto match = [&](const V3Row& r) -> KeepalivedInstance* {
    std::vector<KeepalivedInstance*> c;
    for (auto& in : out.instances) {
      if (in.vrid != r.vrid) continue;
      auto f = families.find(in.index);
      if (f != families.end() && static_cast<uint32_t>(f->second) != r.type) {
        continue;
      }
      c.push_back(&in);
    }
    if (c.size() > 1) {
      std::vector<KeepalivedInstance*> narrowed;
      for (auto* in : c) {
        for (uint32_t ifx : vip_ifindexes[in->index]) {
          if (ifx == r.ifindex) {
            narrowed.push_back(in);
            break;
          }
        }
      }
      c.swap(narrowed);
    }
    return c.size() == 1 ? c[0] : nullptr;
  };
  std::map<uint32_t, int64_t> vip_counts;  // instance index -> count
  for (const auto& [idx, b] : j.Rows(kV3OperationsEntry, kV3AddrCount)) {
    if (idx.size() != 3 || b->type != VarType::kInteger) continue;
    if (auto* in = match({idx[0], idx[1], idx[2]})) {
      vip_counts[in->index] = b->number;
    }
  }
  for (const auto& [idx, b] :
       j.Rows(kV3StatisticsEntry, kV3MasterTransitions)) {
    if (idx.size() != 3) continue;
    KeepalivedInstance* in = match({idx[0], idx[1], idx[2]});
    if (in == nullptr) continue;
    auto n = [&](uint32_t col) -> uint64_t {
      return static_cast<uint64_t>(
          j.Number(kV3StatisticsEntry, col, idx).value_or(0));
    };
    KeepalivedInstanceStats s;
    s.master_transitions = n(kV3MasterTransitions);
    s.advertisements_received = n(kV3RcvdAdvertisements);
    s.interval_errors = n(kV3AdvIntervalErrors);
    s.ttl_errors = n(kV3IpTtlErrors);
    s.priority_zero_received = n(kV3RcvdPriZeroPackets);
    s.priority_zero_sent = n(kV3SentPriZeroPackets);
    s.invalid_type_received = n(kV3RcvdInvalidTypePackets);
    s.address_list_errors = n(kV3AddressListErrors);
    s.packet_length_errors = n(kV3PacketLengthErrors);
    in->stats = s;
  }

  // Addresses: rows inst.n, inst 0 being static addresses (not ours).
  // vrrpAddressAdvertising is wrong past instance 1 in 2.2.7, so the first
  // (VRRPv3 address count) rows of an instance are its VIPs and the rest
  // its excluded VIPs; without that count, all are VIPs.
  for (const auto& [idx, b] : j.Rows(kAddressEntry, kAddressValue)) {
    if (idx.size() != 2 || idx[0] == 0) continue;
    auto it = by_index.find(idx[0]);
    if (it == by_index.end()) continue;
    KeepalivedInstance& in = out.instances[it->second];
    if (b->type != VarType::kOctetString) {
      j.Count(ErrorReason::kMalformed, ToString(b->oid) + ": not an address");
      continue;
    }
    auto text =
        AddressText(b->bytes, j.Number(kAddressEntry, kAddressMask, idx));
    if (!text) {
      j.Count(ErrorReason::kMalformed, ToString(b->oid) + ": bad address");
      continue;
    }
    KeepalivedAddress a;
    a.address = *text;
    a.ifname = j.String(kAddressEntry, kAddressIfName, idx).value_or("");
    a.set = j.Number(kAddressEntry, kAddressStatus, idx).value_or(2) == 1;
    auto count = vip_counts.find(in.index);
    const bool excluded = count != vip_counts.end() &&
                          static_cast<int64_t>(in.vips.size()) >= count->second;
    (excluded ? in.excluded_vips : in.vips).push_back(std::move(a));
  }

  for (const auto& [idx, b] : j.Rows(kScriptEntry, kScriptName)) {
    if (b->type != VarType::kOctetString) {
      j.Count(ErrorReason::kMalformed, ToString(b->oid) + ": bad script row");
      continue;
    }
    auto r = j.Number(kScriptEntry, kScriptResult, idx);
    if (!r) continue;
    out.scripts.push_back({b->bytes, static_cast<int>(*r)});
  }
  for (const auto& [idx, b] : j.Rows(kSyncGroupEntry, kSyncGroupName)) {
    if (b->type != VarType::kOctetString) {
      j.Count(ErrorReason::kMalformed, ToString(b->oid) + ": bad group row");
      continue;
    }
    auto s = j.Number(kSyncGroupEntry, kSyncGroupState, idx);
    if (!s) continue;
    out.sync_groups.push_back({b->bytes, static_cast<int>(*s)});
  }
  return out;
}

void CollectKeepalived(std::shared_ptr<Session> session, int get_batch,
                       std::function<void(KeepalivedScrape)> done) {
  struct State : std::enable_shared_from_this<State> {
    std::shared_ptr<Session> session;
    int get_batch = 25;
    std::function<void(KeepalivedScrape)> done;
    KeepalivedWalks walks;
    // Round 2's cells by column, merged from the GET replies.
    std::map<Oid, VarBinds> cells;
    std::vector<SnmpError> get_errors;
    int outstanding = 0;

    void Finish() {
      if (--outstanding > 0) return;
      for (auto& [col, rows] : cells) {
        walks.columns.emplace_back(col, Reply(std::move(rows)));
      }
      for (auto& e : get_errors) {
        walks.columns.emplace_back(Oid{}, Reply(Err(std::move(e))));
      }
      auto d = std::move(done);
      KeepalivedScrape s = JoinKeepalived(walks);
      session.reset();  // nothing kept between scrapes
      d(std::move(s));
    }

    // Indexes of a walked column's rows.
    std::vector<Oid> Indexes(const Oid& column) const {
      std::vector<Oid> out;
      for (const auto& [c, reply] : walks.columns) {
        if (c != column || !reply.ok()) continue;
        for (const VarBind& b : reply.value()) {
          out.push_back(Suffix(b.oid, column));
        }
      }
      return out;
    }

    // Round 2 of the tables indexed by `walked` (one column's walk): as
    // soon as that walk is in, so the agent never idles between rounds.
    void StartGets(const Oid& walked) {
      // Keepalived not attached: nothing more to read. (The version GET
      // goes out first, so its answer is normally in by now.)
      if (walks.version &&
          !(walks.version->ok() && walks.version->value().size() == 1 &&
            walks.version->value()[0].type == VarType::kOctetString)) {
        return;
      }
      std::vector<std::vector<Oid>> requests;
      for (const TablePlan& p : Plans()) {
        const Oid index_col =
            Col(p.entry == &kV3StatisticsEntry ? kV3OperationsEntry : *p.entry,
                p.index_column);
        if (index_col != walked) continue;
        std::vector<Oid> batch;
        for (const Oid& idx : Indexes(index_col)) {
          // Instance 0 of the address table is static addresses: not an
          // instance's, never shown.
          if (p.entry == &kAddressEntry && !idx.empty() && idx[0] == 0) {
            continue;
          }
          for (uint32_t col : p.columns) {
            Oid o = Col(*p.entry, col);
            o.insert(o.end(), idx.begin(), idx.end());
            batch.push_back(std::move(o));
            if (static_cast<int>(batch.size()) >= get_batch) {
              requests.push_back(std::move(batch));
              batch.clear();
            }
          }
        }
        if (!batch.empty()) requests.push_back(std::move(batch));
      }
      outstanding += static_cast<int>(requests.size());
      auto self = shared_from_this();
      for (auto& r : requests) {
        session->Get(std::move(r), [self](Reply reply) {
          if (!reply.ok()) {
            self->get_errors.push_back(std::move(reply.error()));
          } else {
            for (VarBind& b : reply.value()) {
              // A row gone between the rounds (a reload) answers
              // noSuchInstance: simply not there.
              if (b.IsException() || b.oid.size() < 2) continue;
              Oid col(b.oid.begin(),
                      b.oid.begin() + static_cast<std::ptrdiff_t>(
                                          b.oid.size() - IndexLength(b.oid)));
              self->cells[col].push_back(std::move(b));
            }
          }
          self->Finish();
        });
      }
    }

    // The index length of a cell of one of our tables.
    static size_t IndexLength(const Oid& oid) {
      if (HasPrefix(oid, kAddressEntry)) return 2;       // inst.n
      if (HasPrefix(oid, kV3StatisticsEntry)) return 3;  // if.vrid.type
      if (HasPrefix(oid, kV3OperationsEntry)) return 3;
      return 1;
    }
  };
  auto st = std::make_shared<State>();
  st->session = std::move(session);
  st->get_batch = std::max(1, get_batch);
  // Every callback holds the state; the state holds the session until the
  // end, and the session holds the callbacks only while they are pending.
  st->done = std::move(done);
  const std::vector<Oid> columns = KeepalivedIndexColumns();
  st->walks.columns.reserve(columns.size() + 64);
  for (const Oid& c : columns) {
    st->walks.columns.emplace_back(c, Reply(VarBinds{}));
  }
  // One more than the requests, released below, so a session that answers
  // synchronously (the fake) cannot finish before every request is out.
  st->outstanding = static_cast<int>(columns.size()) + 2;
  Session& s = *st->session;
  s.Get({mib::kVersion}, [st](Reply r) {
    st->walks.version = std::move(r);
    st->Finish();
  });
  for (size_t i = 0; i < columns.size(); ++i) {
    s.Walk(columns[i], [st, i](Reply r) {
      st->walks.columns[i].second = std::move(r);
      st->StartGets(st->walks.columns[i].first);
      st->Finish();
    });
  }
  st->Finish();
}

}  // namespace vrrp::snmp
