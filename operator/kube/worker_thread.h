// The background thread of an informer, the NodeReporter and the VipSummariser, and the one way it
// stops. Each of them blocks either in a request to the API server or in a wait here; Stop() ends
// both: it wakes the waits, runs the owner's interrupt (Cancel() of its ApiClient, so that a request
// or watch in flight returns at once) and joins. The owner calls Stop() in its destructor, before
// the members the thread uses are destroyed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace lvsrs::kube {

class WorkerThread {
 public:
  WorkerThread() = default;
  ~WorkerThread() { Stop(); }
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  // Runs body on a new thread. interrupt: what Stop() calls to end a blocking call of body's.
  void Start(std::function<void()> body, std::function<void()> interrupt);
  // Idempotent; also when never started. Later waits return false at once.
  void Stop();

  // For the thread: waits `d`, or until Stop(); false when stopping.
  bool SleepFor(std::chrono::steady_clock::duration d);
  // For the thread: waits until ready() (evaluated under mutex()) or Stop(); false when stopping.
  bool WaitUntil(const std::function<bool()>& ready);
  bool stopping();

  // What the owner hands to the thread: change it under mutex(), then Wake() a WaitUntil.
  std::mutex& mutex() { return mutex_; }
  void Wake() { cv_.notify_all(); }

 private:
  std::thread thread_;
  std::function<void()> interrupt_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace lvsrs::kube
