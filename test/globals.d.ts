// Tests read many JSON bodies and assert their shape with expect(); typing each one first
// would add nothing the assertions do not already check.
declare global {
  interface Response {
    json(): Promise<any>
  }
}
export {}
