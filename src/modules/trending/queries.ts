/**
 * The trending score, computed in SQL by rankStories (snapshot.ts):
 * score = (LIKE_WEIGHT × likes + views) / (age_hours + AGE_OFFSET_HOURS) ^ GRAVITY,
 * a clock-skewed future date counting as age 0.
 */
/** Weight of one like against one view in the score. */
export const LIKE_WEIGHT = 3
/** Hours added to a story's age so brand-new stories do not divide by ~0. */
export const AGE_OFFSET_HOURS = 2
/** How fast scores decay with age. */
export const GRAVITY = 1.5
