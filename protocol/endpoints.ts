import {
  type Assignment,
  type AssignReply,
  type CancelReply,
  type CancelRequest,
  type HandBack,
  type HandBackReply,
  type Heartbeat,
  type HeartbeatReply,
  type ProbePythonReply,
  type ProbePythonRequest,
  parseAssignment,
  parseAssignReply,
  parseCancelReply,
  parseCancelRequest,
  parseHandBack,
  parseHandBackReply,
  parseHeartbeat,
  parseHeartbeatReply,
  parseProbePythonReply,
  parseProbePythonRequest,
  parseRegisterReply,
  parseRegisterRequest,
  type RegisterReply,
  type RegisterRequest,
} from "./messages.ts";
import type { Endpoint } from "./nats-endpoint.ts";
import { Subjects } from "./subjects.ts";

/** The request/reply exchanges between the coordinator and agents (progress and results go by JetStream). */
export const Endpoints = {
  /** agent → coordinator: join (or rejoin) the farm. */
  register: {
    name: "register",
    subject: Subjects.register,
    parseRequest: parseRegisterRequest,
    parseReply: parseRegisterReply,
    speaker: (request) => request.name,
  } satisfies Endpoint<RegisterRequest, RegisterReply>,
  /** agent → coordinator: liveness, current use and the attempts it runs. */
  heartbeat: {
    name: "heartbeat",
    subject: Subjects.heartbeat,
    parseRequest: parseHeartbeat,
    parseReply: parseHeartbeatReply,
    speaker: (request) => request.name,
  } satisfies Endpoint<Heartbeat, HeartbeatReply>,
  /** agent → coordinator: an attempt stopped because the agent shuts down; run the job elsewhere. */
  handBack: {
    name: "hand-back",
    subject: Subjects.handBack,
    parseRequest: parseHandBack,
    parseReply: parseHandBackReply,
    speaker: (request) => request.name,
  } satisfies Endpoint<HandBack, HandBackReply>,
  /** coordinator → agent: run this attempt. */
  assign: {
    name: "assign",
    subject: Subjects.assign,
    parseRequest: parseAssignment,
    parseReply: parseAssignReply,
  } satisfies Endpoint<Assignment, AssignReply>,
  /** coordinator → agent: stop this attempt. */
  cancel: {
    name: "cancel",
    subject: Subjects.cancel,
    parseRequest: parseCancelRequest,
    parseReply: parseCancelReply,
  } satisfies Endpoint<CancelRequest, CancelReply>,
  /** coordinator → agent: is this interpreter usable here? */
  probePython: {
    name: "probe-python",
    subject: Subjects.probePython,
    parseRequest: parseProbePythonRequest,
    parseReply: parseProbePythonReply,
  } satisfies Endpoint<ProbePythonRequest, ProbePythonReply>,
};
