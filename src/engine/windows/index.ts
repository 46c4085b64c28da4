// Windowed streams: the service and the shapes it answers with.
export { WindowsService, type PollOptions, type WindowStreamInfo } from "./service.js";
export { DEFAULT_WINDOW_OPTIONS, lateStreamName, type WindowStreamOptions } from "./definition.js";
export type { LeasedWindow, WindowMessage } from "./leases.js";
export type { WindowStreamRecord } from "../../storage/queries/windows.js";
