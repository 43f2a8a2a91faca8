// The coroutine library (part of lbaselib.c).

extension LuaState {
    func openCoroutine() {
    }
}
