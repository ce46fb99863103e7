#include "snmp/vrrp_mib_view.h"

namespace vrrp::snmp {
namespace {

const Oid kOperEntry = {1, 3, 6, 1, 2, 1, 207, 1, 1, 1, 1};
const Oid kAssocEntry = {1, 3, 6, 1, 2, 1, 207, 1, 1, 2, 1};
const Oid kStatsEntry = {1, 3, 6, 1, 2, 1, 207, 1, 2, 5, 1};
const Oid kGlobalStats = {1, 3, 6, 1, 2, 1, 207, 1, 2};
const Oid kInstanceEntry = {1, 3, 6, 1, 4, 1, 9586, 100, 5, 2, 3, 1};

// RFC 6527 InetAddressType: ipv4(1), ipv6(2).
uint32_t AddrType(Family f) { return f == Family::kIpv4 ? 1 : 2; }

class Builder {
 public:
  explicit Builder(MibView& v) : v_(v) {}
  void Number(Oid oid, VarType type, int64_t n) {
    VarBind b;
    b.oid = oid;
    b.type = type;
    b.number = n;
    v_[std::move(oid)] = std::move(b);
  }
  void Bytes(Oid oid, VarType type, std::string bytes) {
    VarBind b;
    b.oid = oid;
    b.type = type;
    b.bytes = std::move(bytes);
    v_[std::move(oid)] = std::move(b);
  }

 private:
  MibView& v_;
};

Oid Cell(const Oid& entry, uint32_t column, const Oid& index) {
  Oid o = entry;
  o.push_back(column);
  o.insert(o.end(), index.begin(), index.end());
  return o;
}

std::string Raw(const IpAddress& a) {
  auto b = a.bytes();
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// RFC 6527 vrrpv3OperationsStatus: initialize(1), backup(2), master(3).
int64_t Vrrpv3Status(State s) {
  switch (s) {
    case State::kBackup:
      return 2;
    case State::kMaster:
      return 3;
    default:
      return 1;  // Initialize, and Fault (which the MIB does not have)
  }
}

// RFC 6527 vrrpv3StatisticsNewMasterReason: notMaster(0), priority(1),
// preempted(2), masterNoResponse(3).
int64_t NewMasterReason(const InstanceSnapshot& i) {
  if (i.status.state != State::kMaster || !i.status.last_transition) return 0;
  switch (i.status.last_transition->reason) {
    case TransitionReason::kMasterDownTimer:
    case TransitionReason::kPriorityZeroReceived:
      return 3;
    case TransitionReason::kLowerPriorityMaster:
      return 2;
    default:
      return 1;  // owner at start-up, or the highest priority
  }
}

}  // namespace

Oid Vrrpv3Index(uint32_t if_index, uint8_t vrid, Family family) {
  return {if_index, vrid, AddrType(family)};
}

MibView BuildVrrpMibView(
    const Snapshot& s,
    const std::function<uint32_t(const std::string&)>& if_index,
    const std::string& version) {
  MibView view;
  Builder b(view);
  b.Bytes(Append(kKeepalivedVersion, {0}), VarType::kOctetString, version);
  uint64_t checksum = 0, version_errors = 0, vrid_errors = 0;
  for (const auto& [ifname, errors] : s.interface_receive_errors) {
    checksum += errors[static_cast<size_t>(ReceiveError::kChecksum)];
    version_errors += errors[static_cast<size_t>(ReceiveError::kVersion)];
    vrid_errors += errors[static_cast<size_t>(ReceiveError::kVrId)];
  }
  uint32_t row = 0;
  for (const InstanceSnapshot& i : s.instances) {
    ++row;
    const InstanceConfig& c = *i.config;
    const InstanceStatus& st = i.status;
    const InstanceStats& n = i.counters();
    checksum += n.errors(ReceiveError::kChecksum);
    version_errors += n.errors(ReceiveError::kVersion);
    vrid_errors += n.errors(ReceiveError::kVrId);
    const Oid idx = Vrrpv3Index(if_index(c.interface), c.vrid, c.family);

    // vrrpv3OperationsTable (RFC 6527 §7): 3 MasterIpAddr, 4
    // PrimaryIpAddr, 5 VirtualMacAddr, 6 Status, 7 Priority, 8 AddrCount,
    // 9 AdvInterval (cs), 10 PreemptMode, 11 AcceptMode, 12 UpTime, 13
    // RowStatus.
    const std::string zero(c.family == Family::kIpv4 ? 4 : 16, '\0');
    b.Bytes(Cell(kOperEntry, 3, idx), VarType::kOctetString,
            st.master_address ? Raw(*st.master_address) : zero);
    b.Bytes(Cell(kOperEntry, 4, idx), VarType::kOctetString,
            st.state == State::kMaster && st.master_address
                ? Raw(*st.master_address)
                : zero);
    // The virtual MAC (RFC 5798 §7.3): 00-00-5E-00-01-{VRID} for IPv4,
    // 00-00-5E-00-02-{VRID} for IPv6.
    const char mac[6] = {0,
                         0,
                         0x5e,
                         0,
                         static_cast<char>(c.family == Family::kIpv4 ? 1 : 2),
                         static_cast<char>(c.vrid)};
    b.Bytes(Cell(kOperEntry, 5, idx), VarType::kOctetString,
            std::string(mac, 6));
    b.Number(Cell(kOperEntry, 6, idx), VarType::kInteger,
             Vrrpv3Status(st.state));
    b.Number(Cell(kOperEntry, 7, idx), VarType::kGauge32,
             st.effective_priority);
    b.Number(Cell(kOperEntry, 8, idx), VarType::kInteger,
             static_cast<int64_t>(c.virtual_addresses.size()));
    b.Number(Cell(kOperEntry, 9, idx), VarType::kInteger,
             st.advert_interval.count());
    // TruthValue: true(1), false(2).
    b.Number(Cell(kOperEntry, 10, idx), VarType::kInteger, c.preempt ? 1 : 2);
    b.Number(Cell(kOperEntry, 11, idx), VarType::kInteger, c.accept ? 1 : 2);
    b.Number(Cell(kOperEntry, 12, idx), VarType::kTimeTicks, 0);
    b.Number(Cell(kOperEntry, 13, idx), VarType::kInteger, 1);  // active

    // vrrpv3AssociatedIpAddrTable: index ...addr as an InetAddress, with
    // its length octet (RFC 2578 §7.7: a variable-length string index).
    for (const IpPrefix& vip : c.virtual_addresses) {
      Oid a = idx;
      const auto bytes = vip.address.bytes();
      a.push_back(static_cast<uint32_t>(bytes.size()));
      for (uint8_t x : bytes) a.push_back(x);
      b.Number(Cell(kAssocEntry, 2, a), VarType::kInteger, 1);  // active
    }

    // vrrpv3StatisticsTable: 1 MasterTransitions (Counter32), 2
    // NewMasterReason, 3 RcvdAdvertisements, 4 AdvIntervalErrors, 5
    // IpTtlErrors, 6 ProtoErrReason, 7 RcvdPriZeroPackets, 8
    // SentPriZeroPackets, 9 RcvdInvalidTypePackets, 10 AddressListErrors,
    // 11 PacketLengthErrors (Counter64), 12 RowDiscontinuityTime, 13
    // RefreshRate.
    b.Number(Cell(kStatsEntry, 1, idx), VarType::kCounter32,
             static_cast<int64_t>(n.become_master.get() & 0xffffffffu));
    b.Number(Cell(kStatsEntry, 2, idx), VarType::kInteger, NewMasterReason(i));
    auto c64 = [](uint64_t v) { return static_cast<int64_t>(v); };
    b.Number(Cell(kStatsEntry, 3, idx), VarType::kCounter64,
             c64(n.advertisements_received));
    b.Number(Cell(kStatsEntry, 4, idx), VarType::kCounter64,
             c64(n.errors(ReceiveError::kAdvInterval)));
    b.Number(Cell(kStatsEntry, 5, idx), VarType::kCounter64,
             c64(n.errors(ReceiveError::kIpTtl)));
    // noError(0), ipTtlError(1): the last one this row saw.
    b.Number(Cell(kStatsEntry, 6, idx), VarType::kInteger,
             n.errors(ReceiveError::kIpTtl) > 0 ? 1 : 0);
    b.Number(Cell(kStatsEntry, 7, idx), VarType::kCounter64,
             c64(n.priority_zero_received));
    b.Number(Cell(kStatsEntry, 8, idx), VarType::kCounter64,
             c64(n.priority_zero_sent));
    b.Number(Cell(kStatsEntry, 9, idx), VarType::kCounter64,
             c64(n.errors(ReceiveError::kInvalidType)));
    b.Number(Cell(kStatsEntry, 10, idx), VarType::kCounter64,
             c64(n.errors(ReceiveError::kAddressList)));
    b.Number(Cell(kStatsEntry, 11, idx), VarType::kCounter64,
             c64(n.errors(ReceiveError::kPacketLength) +
                 n.errors(ReceiveError::kTruncated)));
    b.Number(Cell(kStatsEntry, 12, idx), VarType::kTimeTicks, 0);
    b.Number(Cell(kStatsEntry, 13, idx), VarType::kGauge32, 0);

    // KEEPALIVED-MIB vrrpInstanceTable, the polled columns, with
    // Keepalived's numbering (VrrpState 0 init .. 3 fault).
    const Oid k = {row};
    b.Bytes(Cell(kInstanceEntry, 2, k), VarType::kOctetString, c.name);
    b.Number(Cell(kInstanceEntry, 3, k), VarType::kGauge32, c.vrid);
    b.Number(Cell(kInstanceEntry, 4, k), VarType::kInteger,
             static_cast<int64_t>(st.state));
    b.Number(Cell(kInstanceEntry, 7, k), VarType::kInteger, st.base_priority);
    b.Number(Cell(kInstanceEntry, 8, k), VarType::kInteger,
             st.effective_priority);
    bool all_set = !i.vip_present.empty();
    for (const auto& [vip, present] : i.vip_present) all_set &= present;
    b.Number(Cell(kInstanceEntry, 9, k), VarType::kInteger, all_set ? 1 : 2);
    b.Bytes(Cell(kInstanceEntry, 10, k), VarType::kOctetString, c.interface);
    // Seconds for VRRPv2, centiseconds for VRRPv3, as Keepalived does.
    b.Number(Cell(kInstanceEntry, 12, k), VarType::kGauge32,
             c.version == Version::kV2 ? c.advert_interval.count() / 100
                                       : c.advert_interval.count());
    b.Number(Cell(kInstanceEntry, 13, k), VarType::kInteger, c.preempt ? 1 : 2);
    b.Number(Cell(kInstanceEntry, 30, k), VarType::kInteger,
             c.version == Version::kV2 ? 2 : 3);
  }
  // vrrpv3RouterChecksumErrors.0, VersionErrors.0, VrIdErrors.0 (Counter64)
  b.Number(Append(kGlobalStats, {1, 0}), VarType::kCounter64,
           static_cast<int64_t>(checksum));
  b.Number(Append(kGlobalStats, {2, 0}), VarType::kCounter64,
           static_cast<int64_t>(version_errors));
  b.Number(Append(kGlobalStats, {3, 0}), VarType::kCounter64,
           static_cast<int64_t>(vrid_errors));
  b.Number(Append(kGlobalStats, {4, 0}), VarType::kTimeTicks, 0);
  return view;
}

}  // namespace vrrp::snmp
