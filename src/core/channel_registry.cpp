#include "eventsocket/core/channel_registry.hpp"

#include <algorithm>
#include <atomic>
#include <ctime>

#include "eventsocket/core/fiber_scheduler.hpp"

namespace eventsocket::core {

Channel::Channel(ChannelData data)
    : uuid_(data.uuid),
      created_(std::chrono::system_clock::now()),
      initial_(data.caller),
      data_(std::move(data)) {}

ChannelData Channel::snapshot() const {
  std::lock_guard lock(mutex_);
  return data_;
}

std::optional<std::string> Channel::variable(std::string_view name) const {
  std::lock_guard lock(mutex_);
  if (auto v = data_.variable(name)) {
    return std::string(*v);
  }
  return std::nullopt;
}

void Channel::set_variable(std::string_view name, std::string_view value) {
  std::lock_guard lock(mutex_);
  data_.set_variable(name, value);
}

void Channel::set_application(std::string_view name, std::string_view data) {
  std::lock_guard lock(mutex_);
  application_.assign(name);
  application_data_.assign(data);
}

std::pair<std::string, std::string> Channel::application() const {
  std::lock_guard lock(mutex_);
  return {application_, application_data_};
}

void Channel::add_event_headers(event::Event& event) const {
  std::lock_guard lock(mutex_);
  data_.add_event_headers(event);
}

Channel::Listing Channel::listing() const {
  std::lock_guard lock(mutex_);
  return listing_;
}

// A fiber parked in wait_for(); it lives on that fiber's stack until the fiber resumes.
struct Channel::FiberWaiter {
  Channel* channel;
  ReadyRef ready;
  const std::chrono::steady_clock::time_point* deadline;
  Fiber* fiber;
  std::uint64_t id;  // tells a late timer from the waiter now at the same address
  std::uint64_t timer = 0;
};

namespace {
std::atomic<std::uint64_t> next_wait_id{1};
}

bool Channel::wait_for(const std::chrono::steady_clock::time_point* deadline, ReadyRef ready) {
  Fiber* self = FiberScheduler::current();
  if (self == nullptr) {
    std::unique_lock lock(mutex_);
    if (deadline != nullptr) {
      return wake_.wait_until(lock, *deadline, [&] { return ready(control_, data_); });
    }
    wake_.wait(lock, [&] { return ready(control_, data_); });
    return true;
  }
  {
    std::lock_guard lock(mutex_);
    if (ready(control_, data_)) {
      return true;
    }
    if (deadline != nullptr && std::chrono::steady_clock::now() >= *deadline) {
      return false;
    }
  }
  FiberWaiter waiter{this, ready, deadline, self, next_wait_id++};
  // Registered only once the fiber is off its stack (see FiberScheduler::suspend).
  FiberScheduler::suspend(
      [](void* arg, Fiber* fiber) {
        auto* w = static_cast<FiberWaiter*>(arg);
        Channel& ch = *w->channel;
        std::unique_lock lock(ch.mutex_);
        if (w->ready(ch.control_, ch.data_)) {
          lock.unlock();
          FiberScheduler::resume(fiber);
          return;
        }
        ch.fiber_waiters_.push_back(w);
        if (w->deadline != nullptr) {
          // The timer holds the channel weakly and finds the waiter by id: by the time it
          // fires the wait may have ended and the channel may be gone.
          std::weak_ptr<Channel> weak = ch.weak_from_this();
          const std::uint64_t id = w->id;
          w->timer = FiberScheduler::scheduler_of(fiber).add_timer(*w->deadline, [weak, id] {
            const std::shared_ptr<Channel> channel = weak.lock();
            if (!channel) {
              return;
            }
            Fiber* wake = nullptr;
            {
              std::lock_guard timer_lock(channel->mutex_);
              auto& list = channel->fiber_waiters_;
              auto it = std::find_if(list.begin(), list.end(),
                                     [&](const FiberWaiter* x) { return x->id == id; });
              if (it != list.end()) {
                wake = (*it)->fiber;
                list.erase(it);
              }
            }
            if (wake != nullptr) {
              FiberScheduler::resume(wake);
            }
          });
        }
      },
      &waiter);
  std::lock_guard lock(mutex_);
  return ready(control_, data_);
}

void Channel::wake_waiters() {
  wake_.notify_all();
  for (auto it = fiber_waiters_.begin(); it != fiber_waiters_.end();) {
    FiberWaiter* w = *it;
    if (!w->ready(control_, data_)) {
      ++it;
      continue;
    }
    it = fiber_waiters_.erase(it);
    Fiber* fiber = w->fiber;
    if (w->timer != 0) {
      FiberScheduler::scheduler_of(fiber).cancel_timer(w->timer);
    }
    // w is on the fiber's stack: not touched again once the fiber may run.
    FiberScheduler::resume(fiber);
  }
}

ChannelPtr ChannelRegistry::add(ChannelData data) {
  std::lock_guard lock(mutex_);
  if (data.uuid.empty() || by_uuid_.find(data.uuid) != by_uuid_.end()) {
    return nullptr;
  }
  auto channel = std::make_shared<Channel>(std::move(data));
  by_uuid_.emplace(channel->uuid(), channel);
  ordered_.push_back(channel);
  ++created_total_;
  return channel;
}

bool ChannelRegistry::remove(std::string_view uuid) {
  std::lock_guard lock(mutex_);
  auto it = by_uuid_.find(uuid);
  if (it == by_uuid_.end()) {
    return false;
  }
  std::erase(ordered_, it->second);
  by_uuid_.erase(it);
  return true;
}

ChannelPtr ChannelRegistry::find(std::string_view uuid) const {
  std::lock_guard lock(mutex_);
  auto it = by_uuid_.find(uuid);
  return it == by_uuid_.end() ? nullptr : it->second;
}

std::vector<ChannelPtr> ChannelRegistry::list() const {
  std::lock_guard lock(mutex_);
  return ordered_;
}

std::size_t ChannelRegistry::size() const {
  std::lock_guard lock(mutex_);
  return by_uuid_.size();
}

std::uint64_t ChannelRegistry::created_total() const {
  std::lock_guard lock(mutex_);
  return created_total_;
}

const std::vector<std::string_view>& show_channels_columns() {
  static const std::vector<std::string_view> kColumns = {"uuid",
                                                         "direction",
                                                         "created",
                                                         "created_epoch",
                                                         "name",
                                                         "state",
                                                         "cid_name",
                                                         "cid_num",
                                                         "ip_addr",
                                                         "dest",
                                                         "application",
                                                         "application_data",
                                                         "dialplan",
                                                         "context",
                                                         "read_codec",
                                                         "read_rate",
                                                         "read_bit_rate",
                                                         "write_codec",
                                                         "write_rate",
                                                         "write_bit_rate",
                                                         "secure",
                                                         "hostname",
                                                         "presence_id",
                                                         "presence_data",
                                                         "accountcode",
                                                         "callstate",
                                                         "callee_name",
                                                         "callee_num",
                                                         "callee_direction",
                                                         "call_uuid",
                                                         "sent_callee_name",
                                                         "sent_callee_num",
                                                         "initial_cid_name",
                                                         "initial_cid_num",
                                                         "initial_ip_addr",
                                                         "initial_dest",
                                                         "initial_dialplan",
                                                         "initial_context"};
  return kColumns;
}

std::vector<std::string> show_channels_row(const Channel& channel, std::string_view hostname) {
  const ChannelData d = channel.snapshot();
  const auto [app, app_data] = channel.application();
  const std::time_t created = std::chrono::system_clock::to_time_t(channel.created());
  std::tm parts{};
  localtime_r(&created, &parts);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &parts);
  const CallerProfile& c = d.caller;
  const CallerProfile& initial = channel.initial_profile();
  const Channel::Listing l = channel.listing();
  auto var = [&](std::string_view name) { return std::string(d.variable(name).value_or("")); };
  return {channel.uuid(),
          d.direction,
          stamp,
          std::to_string(created),
          d.name,
          std::string(channel_state_name(d.running_state)),
          c.caller_id_name,
          c.caller_id_number,
          c.network_addr,
          c.destination_number,
          app,
          app_data,
          c.dialplan,
          c.context,
          d.read_codec ? d.read_codec->name : "",
          d.read_codec ? std::to_string(d.read_codec->rate) : "",
          d.read_codec ? std::to_string(d.read_codec->bit_rate) : "",
          d.write_codec ? d.write_codec->name : "",
          d.write_codec ? std::to_string(d.write_codec->rate) : "",
          d.write_codec ? std::to_string(d.write_codec->bit_rate) : "",
          l.secure,
          std::string(hostname),
          var("presence_id"),
          var("presence_data"),
          l.accountcode,
          std::string(call_state_name(d.call_state)),
          c.callee_id_name,
          c.callee_id_number,
          l.callee_direction,
          l.call_uuid,
          l.sent_callee_name,
          l.sent_callee_num,
          initial.caller_id_name,
          initial.caller_id_number,
          initial.network_addr,
          initial.destination_number,
          initial.dialplan,
          initial.context};
}

}  // namespace eventsocket::core
