#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventsocket/core/channel.hpp"

namespace eventsocket::core {

// One live channel. Its data is guarded by its own mutex: API commands, the Event Socket
// sessions bound to it and its own call flow read and change it from different threads.
class Channel {
 public:
  explicit Channel(ChannelData data);

  const std::string& uuid() const { return uuid_; }
  // A consistent copy of everything the channel shows in events.
  ChannelData snapshot() const;
  // Changes the data under the channel's lock.
  template <typename Change>
  void update(Change&& change) {
    std::lock_guard lock(mutex_);
    change(data_);
  }

  std::optional<std::string> variable(std::string_view name) const;
  void set_variable(std::string_view name, std::string_view value);

  // The application running now (`show channels` application / application_data).
  void set_application(std::string_view name, std::string_view data);
  std::pair<std::string, std::string> application() const;

  // When the channel was created (show channels `created`, `created_epoch`).
  std::chrono::system_clock::time_point created() const { return created_; }
  // The caller profile as the channel was created (show channels `initial_*`).
  const CallerProfile& initial_profile() const { return initial_; }

  // `show channels` columns that FreeSWITCH keeps in its channel table rather than in the
  // channel's event data; the call flow sets them.
  struct Listing {
    std::string callee_direction;  // e.g. RECV on a loopback a-leg
    std::string call_uuid;
    std::string sent_callee_name;
    std::string sent_callee_num;
    std::string secure;
    std::string accountcode;
  };
  Listing listing() const;
  template <typename Change>
  void update_listing(Change&& change) {
    std::lock_guard lock(mutex_);
    change(listing_);
  }

 private:
  const std::string uuid_;
  const std::chrono::system_clock::time_point created_;
  const CallerProfile initial_;
  mutable std::mutex mutex_;
  ChannelData data_;
  std::string application_;
  std::string application_data_;
  Listing listing_;
};

using ChannelPtr = std::shared_ptr<Channel>;

// Every live channel, by UUID, in creation order for listings.
class ChannelRegistry {
 public:
  // Adds a channel; nullptr when a channel with that UUID already exists.
  ChannelPtr add(ChannelData data);
  bool remove(std::string_view uuid);
  ChannelPtr find(std::string_view uuid) const;
  std::vector<ChannelPtr> list() const;
  std::size_t size() const;
  // Channels created since startup (the `session_id` FreeSWITCH numbers them with).
  std::uint64_t created_total() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, ChannelPtr, std::less<>> by_uuid_;
  std::vector<ChannelPtr> ordered_;
  std::uint64_t created_total_ = 0;
};

// `show channels` / `show calls` columns and one row per channel, in FreeSWITCH's order
// (capture 15). `hostname` is the switch's.
const std::vector<std::string_view>& show_channels_columns();
std::vector<std::string> show_channels_row(const Channel& channel, std::string_view hostname);

}  // namespace eventsocket::core
