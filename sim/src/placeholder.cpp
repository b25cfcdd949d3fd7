// Keeps squeeze_sim a real library until the simulator's sources land (sim issue).
namespace squeeze::sim {
int library_version() { return 1; }
}  // namespace squeeze::sim
