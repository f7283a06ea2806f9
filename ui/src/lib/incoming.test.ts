import { describe, expect, it } from "vitest";
import { absoluteDate, relativeDate, shortHash, statusWord } from "./incoming";

describe("relativeDate", () => {
  const now = new Date("2024-06-01T12:00:00Z");

  it("says how long ago a commit was made, in the largest whole unit", () => {
    expect(relativeDate("2024-06-01T09:00:00+00:00", now)).toBe("3 hours ago");
    expect(relativeDate("2024-05-31T12:00:00Z", now)).toBe("yesterday");
    expect(relativeDate("2024-06-01T11:58:30Z", now)).toBe("1 minute ago");
    expect(relativeDate("2024-06-01T11:59:50Z", now)).toBe("just now");
  });

  it("reads offsets, so the same moment in another zone reads the same", () => {
    expect(relativeDate("2024-06-01T11:00:00+02:00", now)).toBe("3 hours ago");
  });

  it("shows text that is not a date as it is", () => {
    expect(relativeDate("not a date", now)).toBe("not a date");
    expect(absoluteDate("not a date")).toBe("not a date");
  });
});

describe("statusWord and shortHash", () => {
  it("names git's status letters in words", () => {
    expect(statusWord({ status: "A", path: "a", from: null })).toBe("added");
    expect(statusWord({ status: "R", path: "b", from: "a" })).toBe("renamed");
    expect(statusWord({ status: "X", path: "a", from: null })).toBe("changed");
  });

  it("shortens a hash as git log --oneline does", () => {
    expect(shortHash("0123456789abcdef")).toBe("0123456");
  });
});
