/** Who is calling, as established from a verified token (never from unverified input). */
export interface Identity {
  subject: string
  email?: string | undefined
  roles: string[]
  isAdmin: boolean
}

/** An identity with its profile resolved. */
export interface Principal extends Identity {
  profileId: string
}
