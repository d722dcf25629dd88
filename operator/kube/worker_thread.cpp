#include "kube/worker_thread.h"

namespace lvsrs::kube {

void WorkerThread::Start(std::function<void()> body, std::function<void()> interrupt) {
  interrupt_ = std::move(interrupt);
  thread_ = std::thread(std::move(body));
}

void WorkerThread::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (interrupt_) interrupt_();
  if (thread_.joinable()) thread_.join();
}

bool WorkerThread::SleepFor(std::chrono::steady_clock::duration d) {
  std::unique_lock<std::mutex> lock(mutex_);
  return !cv_.wait_for(lock, d, [this] { return stopping_; });
}

bool WorkerThread::WaitUntil(const std::function<bool()>& ready) {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [&] { return stopping_ || ready(); });
  return !stopping_;
}

bool WorkerThread::stopping() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopping_;
}

}  // namespace lvsrs::kube
