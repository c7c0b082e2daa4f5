#include "eventsocket/core/api.hpp"

namespace eventsocket::core {

std::string_view strip_api_whitespace(std::string_view text) noexcept {
  constexpr std::string_view kSpace = " \t\r\n\v";
  const std::size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) {
    return {};
  }
  return text.substr(begin, text.find_last_not_of(kSpace) - begin + 1);
}

void ApiRegistry::add(std::string name, std::string description, std::string syntax,
                      ApiHandler handler, ApiSpeed speed) {
  std::lock_guard lock(mutex_);
  ApiCommand command{name, std::move(description), std::move(syntax), std::move(handler), speed};
  commands_.insert_or_assign(std::move(name), std::move(command));
}

bool ApiRegistry::remove(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = commands_.find(name);
  if (it == commands_.end()) {
    return false;
  }
  commands_.erase(it);
  return true;
}

std::optional<ApiCommand> ApiRegistry::find(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = commands_.find(name);
  if (it == commands_.end()) {
    return std::nullopt;
  }
  return it->second;
}

bool ApiRegistry::contains(std::string_view name) const {
  std::lock_guard lock(mutex_);
  return commands_.find(name) != commands_.end();
}

bool ApiRegistry::may_block(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = commands_.find(strip_api_whitespace(name));
  return it != commands_.end() && it->second.speed == ApiSpeed::may_block;
}

std::vector<ApiCommand> ApiRegistry::list() const {
  std::lock_guard lock(mutex_);
  std::vector<ApiCommand> out;
  out.reserve(commands_.size());
  for (const auto& [name, command] : commands_) {
    out.push_back(command);
  }
  return out;
}

}  // namespace eventsocket::core
