/** Every cache key and TTL Inkwell uses, named in one place. */
export const cacheKeys = {
  profileBySubject: (subject: string) => `profile:sub:${subject}`,
  storyView: (storyId: string, readerHash: string) => `view:${storyId}:${readerHash}`,
}

export const TTL = {
  /** One counted view per reader per story per hour. */
  storyViewDedupeS: 3600,
}
